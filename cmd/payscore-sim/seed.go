package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/scenario"
)

// seeds are the parsed seed files: the merchants to serve, and the world to make.
type seeds struct {
	files     []*scenario.Seed
	merchants []*simulator.Merchant
}

// loadSeeds reads the seed files; every problem names its file, line and column.
func loadSeeds(paths []string) (*seeds, error) {
	s := &seeds{}
	for _, path := range paths {
		data, err := readFileLimited(path, maxSeedBytes)
		if err != nil {
			return nil, fmt.Errorf("--seed: %w", err)
		}
		sd, err := scenario.ParseSeed(path, data)
		if err != nil {
			return nil, err
		}
		if sd.Merchants != nil {
			var configs []simulator.MerchantRegistration
			if err := scenario.DecodeStrict(path, sd.Merchants, &configs); err != nil {
				return nil, err
			}
			for i, mc := range configs {
				m, err := merchantOf(mc, filepath.Dir(path))
				if err != nil {
					return nil, fmt.Errorf("%s:%d: merchants[%d] (mchid %q): %w", path, sd.Merchants.Content[i].Line, i, mc.MchID, err)
				}
				s.merchants = append(s.merchants, m)
			}
		}
		s.files = append(s.files, sd)
	}
	return s, nil
}

// apply seeds the running simulator, file by file, and says what it did.
func (s *seeds) apply(ctx context.Context, svc *simulator.Service, refunds *simulator.RefundService) ([]string, error) {
	var lines []string
	for _, sd := range s.files {
		rep, err := sd.Apply(ctx, svc, refunds)
		if err != nil {
			return nil, err
		}
		lines = append(lines, fmt.Sprintf("seeded %s: %s", sd.Path, rep))
	}
	return lines, nil
}
