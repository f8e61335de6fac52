//go:build unix

package sqlite

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// lockFile takes an exclusive lock on path+".lock" for as long as the database is open, so that
// a second simulator on the same file refuses to start: two would each send every
// notification. SQLite's own locks only order the writes of the two. The lock file holds the
// owner's process id, so that the refusal can name it; the kernel releases the lock when the
// process ends, however it ends.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o644)
	if errors.Is(err, os.ErrPermission) {
		// Another user's lock file locks as well read-only; the database itself may still be
		// writable, which Open checks next.
		f, err = os.Open(path + ".lock")
	}
	if err != nil {
		return nil, fmt.Errorf("lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		owner := lockOwner(f)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("the database is in use by another payscore-sim%s: stop it, or give this one another --db", owner)
		}
		return nil, fmt.Errorf("lock %s.lock: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// lockOwner names the process that holds the lock, from the id it wrote, as " (pid N, name)".
func lockOwner(f *os.File) string {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	if err != nil {
		return ""
	}
	if comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm"); err == nil {
		return fmt.Sprintf(" (pid %d, %s)", pid, strings.TrimSpace(string(comm)))
	}
	return fmt.Sprintf(" (pid %d)", pid)
}
