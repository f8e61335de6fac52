package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a server process this program started.
type proc struct {
	name string
	cmd  *exec.Cmd
	url  string
	done chan struct{}
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

// startServer starts bin with args plus --addr on a free port, and waits for its startup line.
func startServer(ctx context.Context, c *config, name, bin string, args ...string) (*proc, error) {
	cmd := exec.Command(bin, append(args, "--addr", "127.0.0.1:0")...)
	logFile, err := os.OpenFile(filepath.Join(c.dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logFile
	out, err := cmd.StdoutPipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, out)
	}()
	go func() {
		cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	select {
	case p.url = <-found:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("%s exited before listening; see %s.log", name, filepath.Join(c.dir, name))
	case <-time.After(30 * time.Second):
		p.stop()
		return nil, fmt.Errorf("%s did not print its listening line within 30 s", name)
	case <-ctx.Done():
		p.stop()
		return nil, ctx.Err()
	}
}

// stop asks the process to shut down, and kills it after 15 s.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// memory returns VmHWM (peak RSS) and VmRSS in kB.
func (p *proc) memory() (hwm, rss int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.Lines(string(b)) {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmHWM":
			hwm = n
		case "VmRSS":
			rss = n
		}
	}
	return hwm, rss, nil
}

// cpuTime is CPU time a process has used, in user space and in the kernel.
type cpuTime struct{ user, system time.Duration }

func (t cpuTime) total() time.Duration { return t.user + t.system }

func (t cpuTime) sub(u cpuTime) cpuTime { return cpuTime{t.user - u.user, t.system - u.system} }

// cpu returns the user and system CPU time the process has used.
func (p *proc) cpu() (cpuTime, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return cpuTime{}, err
	}
	// The command name, in parentheses, may hold spaces; the fields after it are fixed.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return cpuTime{}, fmt.Errorf("short /proc/%d/stat", p.cmd.Process.Pid)
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	// USER_HZ is 100 on Linux.
	return cpuTime{time.Duration(utime) * 10 * time.Millisecond, time.Duration(stime) * 10 * time.Millisecond}, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// timeToReady starts bin with args plus --addr and returns the time from just before the
// fork to the first GET /healthz answered 200, polling every 200 µs.
func timeToReady(ctx context.Context, bin string, args ...string) (time.Duration, error) {
	addr, err := freeAddr()
	if err != nil {
		return 0, err
	}
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, append(args, "--addr", addr)...)
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	p := &proc{name: bin, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	defer p.stop()
	for time.Since(start) < 20*time.Second && ctx.Err() == nil {
		resp, err := hc.Get("http://" + addr + "/healthz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
		time.Sleep(200 * time.Microsecond)
	}
	return 0, fmt.Errorf("%s not ready after 20 s: %s", bin, stderr.String())
}
