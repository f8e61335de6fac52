package http

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

type certificateList struct {
	Data []certificateEntry `json:"data"`
}

type certificateEntry struct {
	SerialNo           string               `json:"serial_no"`
	EffectiveTime      string               `json:"effective_time"`
	ExpireTime         string               `json:"expire_time"`
	EncryptCertificate encryptedCertificate `json:"encrypt_certificate"`
}

type encryptedCertificate struct {
	Algorithm      string `json:"algorithm"`
	Nonce          string `json:"nonce"`
	AssociatedData string `json:"associated_data"`
	Ciphertext     string `json:"ciphertext"`
}

// certificateAAD is the associated data production encrypts certificates with.
const certificateAAD = "certificate"

// handleCertificates serves the platform certificate encrypted with the caller's APIv3 key, as
// production does, so SDKs that download and decrypt it (gopay AutoVerifySign, wechatpay-go's
// downloader) work unchanged.
func (s *Server) handleCertificates(c echo.Context) error {
	m := merchantOf(c)
	nonce := wxcrypto.NewAEADNonce()
	ciphertext, err := wxcrypto.EncryptAEAD(m.APIv3Key, nonce, certificateAAD, s.Platform.CertPEM)
	if err != nil {
		return simulator.Errorf(simulator.CodeSystemError, "证书加密失败").
			With("issue", "the merchant's APIv3 key cannot encrypt: "+err.Error())
	}
	cert := s.Platform.Cert
	return s.respondJSON(c, http.StatusOK, certificateList{Data: []certificateEntry{{
		SerialNo:      s.Platform.CertSerial,
		EffectiveTime: simulator.FormatRFC3339(cert.NotBefore),
		ExpireTime:    simulator.FormatRFC3339(cert.NotAfter),
		EncryptCertificate: encryptedCertificate{
			Algorithm: "AEAD_AES_256_GCM", Nonce: nonce, AssociatedData: certificateAAD, Ciphertext: ciphertext,
		},
	}}})
}
