package http

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// merchantView is a merchant as the control API shows it: its ids, its certificates' serials,
// its settings and its clock, never its keys.
type merchantView struct {
	MchID      string                     `json:"mchid"`
	AppIDs     []string                   `json:"appids"`
	ServiceIDs []string                   `json:"service_ids"`
	Serials    []string                   `json:"certificate_serials"`
	Settings   simulator.MerchantSettings `json:"settings"`
	// Registered says the merchant came from POST /sim/v1/merchants, not the demo merchant or
	// the configuration file.
	Registered bool      `json:"registered"`
	Clock      clockView `json:"clock"`
}

func (s *Server) merchantView(m *simulator.Merchant) merchantView {
	return merchantView{
		MchID: m.MchID, AppIDs: m.AppIDs, ServiceIDs: m.ServiceIDs, Serials: m.KeySerials(), Settings: m.Settings,
		Registered: m.Registration != nil, Clock: s.clockView(m.MchID),
	}
}

// handleListMerchants serves GET /sim/v1/merchants: every merchant, ordered by mchid.
func (s *Server) handleListMerchants(c echo.Context) error {
	var views []merchantView
	for _, m := range s.Merchants.All() {
		views = append(views, s.merchantView(m))
	}
	return s.respondJSON(c, http.StatusOK, listOf(views))
}

// handleRegisterMerchant serves POST /sim/v1/merchants: 201 with the new merchant, 200 when
// the same registration was made before, MERCHANT_EXISTS (409) when its mchid is taken.
func (s *Server) handleRegisterMerchant(c echo.Context) error {
	var r simulator.MerchantRegistration
	if err := decodeBody(c, &r); err != nil {
		return err
	}
	m, created, err := s.Service.RegisterMerchant(c.Request().Context(), r)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		s.Logger.Info("merchant registered", "mchid", m.MchID, "appids", m.AppIDs, "service_ids", m.ServiceIDs)
	}
	return s.respondJSON(c, status, s.merchantView(m))
}
