package main

// Helpers of the tests that build payscore-sim and run it as a process, the way a container
// runs it: compose_test.go and sigterm_test.go.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain removes the binary binBuild built, if any.
func TestMain(m *testing.M) {
	code := m.Run()
	if binBuilt.dir != "" {
		os.RemoveAll(binBuilt.dir)
	}
	os.Exit(code)
}

// binBuilt is the binary binBuild builds once for all the tests of a run.
var binBuilt struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// binBuild builds ./cmd/payscore-sim (once per test run) and returns its path.
func binBuild(t *testing.T) string {
	t.Helper()
	binBuilt.once.Do(func() {
		gobin, err := exec.LookPath("go")
		if err != nil {
			binBuilt.err = fmt.Errorf("the go command is needed to build the binary: %w", err)
			return
		}
		if binBuilt.dir, err = os.MkdirTemp("", "payscore-sim-test-"); err != nil {
			binBuilt.err = err
			return
		}
		binBuilt.bin = filepath.Join(binBuilt.dir, "payscore-sim")
		cmd := exec.Command(gobin, "build", "-o", binBuilt.bin, "./cmd/payscore-sim")
		cmd.Dir = filepath.Join("..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			binBuilt.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if binBuilt.err != nil {
		t.Fatal(binBuilt.err)
	}
	return binBuilt.bin
}

// binEnviron is the test's environment without PAYSCORE_SIM_* variables, plus extra ("K=V").
func binEnviron(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PAYSCORE_SIM_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// binProcess is a running payscore-sim.
type binProcess struct {
	cmd  *exec.Cmd
	URL  string // from the startup line
	Addr string // host:port of URL
	done chan struct{}
	err  error // Wait's, once done is closed

	mu     sync.Mutex
	stderr bytes.Buffer
}

func (p *binProcess) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.Write(b)
}

// Stderr is what the process has logged so far.
func (p *binProcess) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

var binListening = regexp.MustCompile(`listening on (http://(127\.0\.0\.1:(\d+)))`)

// binStart runs argv with env and waits for its startup line. The process is killed when
// the test ends, if it still runs.
func binStart(t *testing.T, argv, env []string) *binProcess {
	t.Helper()
	p := &binProcess{cmd: exec.Command(argv[0], argv[1:]...), done: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stderr = p
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", argv, err)
	}
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		lines <- line
		io.Copy(io.Discard, r)
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	select {
	case line := <-lines:
		m := binListening.FindStringSubmatch(line)
		if m == nil || m[3] == "0" {
			p.cmd.Process.Kill()
			<-p.done
			t.Fatalf("startup line %q names no loopback address; exit %v; stderr:\n%s", line, p.err, p.Stderr())
		}
		p.URL, p.Addr = m[1], m[2]
	case <-time.After(30 * time.Second):
		t.Fatalf("no startup line within 30s; stderr:\n%s", p.Stderr())
	}
	return p
}

// stop sends SIGTERM and returns the exit error (nil for exit 0) once the process ended.
func (p *binProcess) stop(t *testing.T) error {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.done:
		return p.err
	case <-time.After(30 * time.Second):
		t.Fatalf("the process did not exit within 30s of SIGTERM; stderr:\n%s", p.Stderr())
		return nil
	}
}
