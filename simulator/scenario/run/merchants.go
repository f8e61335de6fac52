package run

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/scenario"
)

// freshMerchants are the merchants a run registers on its target (POST /sim/v1/merchants):
// for each merchant an in-process simulator would serve a scenario, a copy under a new mchid, with the same appids,
// service_ids, keys (the published test keys) and settings. A run's orders, permissions,
// notifications and clocks are then its own: runs against one simulator never see one another
// and can be repeated on the same database forever, and the target needs no seed file and no
// configured merchants beyond the demo one.
type freshMerchants struct {
	mu sync.Mutex
	// ids maps a merchant (its fingerprint) to the mchid registered for it.
	ids map[string]string
}

// scenario returns sc as the run's own merchants.
func (f *freshMerchants) scenario(ctx context.Context, w *world, sc *scenario.Scenario) (*scenario.Scenario, error) {
	ids := map[string]string{}
	for _, m := range sc.ServedMerchants() {
		id, err := f.merchant(ctx, w, m)
		if err != nil {
			return nil, err
		}
		ids[m.MchID] = id
	}
	return sc.WithMchIDs(ids), nil
}

// merchant returns the mchid of the run's copy of m, registering it the first time.
func (f *freshMerchants) merchant(ctx context.Context, w *world, m *simulator.Merchant) (string, error) {
	// Two files may give one mchid other settings or ids: each variant is a merchant of its own.
	fp, err := json.Marshal(struct {
		MchID              string
		AppIDs, ServiceIDs []string
		Serials            []string
		Settings           simulator.MerchantSettings
	}{m.MchID, m.AppIDs, m.ServiceIDs, m.KeySerials(), m.Settings})
	if err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if id, ok := f.ids[string(fp)]; ok {
		return id, nil
	}
	r, err := registration(m, freshMchID())
	if err != nil {
		return "", err
	}
	if err := register(ctx, w, r); err != nil {
		return "", err
	}
	if f.ids == nil {
		f.ids = map[string]string{}
	}
	f.ids[string(fp)] = r.MchID
	return r.MchID, nil
}

// freshMchID is a new mchid: 16 random digits, beside production's 10, so that it can never be
// the demo merchant's or a configured one's, and two runs never draw the same.
func freshMchID() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(9e15)) // crypto/rand never fails
	return fmt.Sprintf("%016d", n.Int64()+1e15)
}

// registration is m under mchid, its keys as public keys.
func registration(m *simulator.Merchant, mchid string) (simulator.MerchantRegistration, error) {
	r := simulator.MerchantRegistration{
		MchID: mchid, AppIDs: m.AppIDs, ServiceIDs: m.ServiceIDs,
		APIv2Key: m.APIv2Key, APIv3Key: m.APIv3Key, Settings: m.Settings,
	}
	for _, serial := range m.KeySerials() {
		der, err := x509.MarshalPKIXPublicKey(m.Keys[serial])
		if err != nil {
			return r, fmt.Errorf("merchant %s: key %s: %w", m.MchID, serial, err)
		}
		r.Certificates = append(r.Certificates, simulator.MerchantKey{
			SerialNo: serial, PublicKey: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
		})
	}
	return r, nil
}

// register registers r on the target.
func register(ctx context.Context, w *world, r simulator.MerchantRegistration) error {
	body, err := json.Marshal(r)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.target+"/sim/v1/merchants", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.hc.Do(req)
	if err != nil {
		return fmt.Errorf("target %s: register a merchant for the run: %w", w.target, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("target %s: register a merchant for the run (POST /sim/v1/merchants) answered %d %s%s",
			w.target, resp.StatusCode, scenario.Escape(string(answer)), tokenHint(resp.StatusCode))
	}
	return nil
}

// tokenHint explains a 403 of the control API.
func tokenHint(status int) string {
	if status == http.StatusForbidden {
		return ": the target requires its control token; give it with --control-token (env PAYSCORE_SIM_CONTROL_TOKEN)"
	}
	return ""
}
