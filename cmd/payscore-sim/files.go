package main

import (
	"fmt"
	"io"
	"os"
)

// Bounds of the files the simulator reads at start-up. A path can name anything (/dev/zero, a
// log that grows, a FIFO), and reading it whole would take all the memory there is; these are
// far above what a real file of each kind holds.
const (
	maxConfigBytes = 1 << 20  // a --config file
	maxSeedBytes   = 16 << 20 // a --seed file, which may list many orders
	maxPEMBytes    = 64 << 10 // a certificate or public key, a few KiB
)

// readFileLimited reads the file at path, refusing one of more than max bytes.
func readFileLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d KiB, more than such a file holds: is it the right file?", path, max>>10)
	}
	return b, nil
}
