package main

// docker-compose.yml and the Dockerfile, checked without Docker: the compose file is loaded with
// the Compose specification's own parser, and the simulator's service is run from the built
// binary with its command, environment and healthcheck, as its container would run it.

import (
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// composeLoad loads the repository's docker-compose.yml with the given profiles enabled, with
// an empty environment so that nothing of the test's leaks in.
func composeLoad(t *testing.T, profiles ...string) *types.Project {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	p, err := loader.LoadWithContext(t.Context(), types.ConfigDetails{
		WorkingDir:  root,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(root, "docker-compose.yml")}},
		Environment: types.Mapping{},
	}, func(o *loader.Options) {
		o.SetProjectName("payscore-sim", true)
		o.Profiles = profiles
	})
	if err != nil {
		t.Fatalf("load docker-compose.yml: %v", err)
	}
	return p
}

// composeEnv returns a service's environment variable; a variable without a value fails the test.
func composeEnv(t *testing.T, s types.ServiceConfig, key string) string {
	t.Helper()
	v, ok := s.Environment[key]
	if !ok || v == nil {
		t.Fatalf("service %s: environment has no value for %s", s.Name, key)
	}
	return *v
}

// composeSimPort returns the port the simulator's service listens on, from PAYSCORE_SIM_ADDR, and
// checks that it listens on all interfaces.
func composeSimPort(t *testing.T, s types.ServiceConfig) string {
	t.Helper()
	addr := composeEnv(t, s, "PAYSCORE_SIM_ADDR")
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("PAYSCORE_SIM_ADDR %q: %v", addr, err)
	}
	if host != "0.0.0.0" {
		t.Errorf("PAYSCORE_SIM_ADDR %q: inside a container the simulator must listen on all interfaces (0.0.0.0)", addr)
	}
	return port
}

func TestComposeFile(t *testing.T) {
	p := composeLoad(t, "*")
	if got, want := p.ServiceNames(), []string{"example-merchant", "payscore-sim", "scenarios"}; !slices.Equal(composeSorted(got), want) {
		t.Fatalf("services %v, want %v", got, want)
	}
	sim, merchant, scenarios := p.Services["payscore-sim"], p.Services["example-merchant"], p.Services["scenarios"]
	port := composeSimPort(t, sim)

	t.Run("payscore-sim", func(t *testing.T) {
		root, _ := filepath.Abs(filepath.Join("..", ".."))
		if sim.Build == nil || sim.Build.Context != root {
			t.Errorf("build: %+v, want the repository root %s (its Dockerfile)", sim.Build, root)
		}
		if sim.Image == "" || len(sim.Entrypoint) != 0 || !slices.Equal(sim.Command, types.ShellCommand{"serve"}) {
			t.Errorf("image %q, entrypoint %v, command %v; want an image tag, the image's entrypoint and [serve]", sim.Image, sim.Entrypoint, sim.Command)
		}
		// The database lives in the named volume.
		if len(sim.Volumes) != 1 {
			t.Fatalf("volumes %+v, want one", sim.Volumes)
		}
		v := sim.Volumes[0]
		if v.Type != types.VolumeTypeVolume || v.Source == "" || v.ReadOnly {
			t.Errorf("volume %+v, want a writable named volume", v)
		}
		if _, ok := p.Volumes[v.Source]; !ok {
			t.Errorf("volume %s is not declared under the top-level volumes", v.Source)
		}
		if db := composeEnv(t, sim, "PAYSCORE_SIM_DB"); !strings.HasPrefix(db, v.Target+"/") {
			t.Errorf("PAYSCORE_SIM_DB %q is not in the volume mounted at %s", db, v.Target)
		}
		// The healthcheck asks the simulator's own port, with the binary (no curl in the image).
		hc := sim.HealthCheck
		if hc == nil || hc.Disable {
			t.Fatal("no healthcheck")
		}
		if want := (types.HealthCheckTest{"CMD", "payscore-sim", "healthcheck", "--addr", "127.0.0.1:" + port}); !slices.Equal(hc.Test, want) {
			t.Errorf("healthcheck test %q, want %q", hc.Test, want)
		}
		if hc.Interval == nil || hc.Timeout == nil || hc.Retries == nil || *hc.Retries == 0 {
			t.Errorf("healthcheck %+v: give interval, timeout and retries", hc)
		}
		// Published to the host's loopback only.
		if len(sim.Ports) != 1 || sim.Ports[0].HostIP != "127.0.0.1" || sim.Ports[0].Target != composePort(t, port) {
			t.Errorf("ports %+v, want the container's %s published on 127.0.0.1", sim.Ports, port)
		}
	})

	// Both services get time to finish on SIGTERM, whatever engine creates them (Podman's
	// Docker API gives none when compose asks for none).
	for _, svc := range []types.ServiceConfig{sim, merchant} {
		if svc.StopGracePeriod == nil || time.Duration(*svc.StopGracePeriod) < 5*time.Second {
			t.Errorf("%s: stop_grace_period %v, want one of at least 5s so that docker stop lets it exit 0", svc.Name, svc.StopGracePeriod)
		}
	}

	t.Run("example-merchant", func(t *testing.T) {
		if merchant.Image != sim.Image || merchant.Build != nil {
			t.Errorf("image %q, build %+v; want the simulator's image %q, binBuilt once by its service", merchant.Image, merchant.Build, sim.Image)
		}
		if !slices.Equal(merchant.Entrypoint, types.ShellCommand{"example-merchant"}) {
			t.Errorf("entrypoint %v, want [example-merchant]", merchant.Entrypoint)
		}
		if dep, ok := merchant.DependsOn["payscore-sim"]; !ok || dep.Condition != types.ServiceConditionHealthy {
			t.Errorf("depends_on %+v, want payscore-sim with condition %s", merchant.DependsOn, types.ServiceConditionHealthy)
		}
		if got, want := composeEnv(t, merchant, "EXAMPLE_MERCHANT_SIMULATOR_URL"), "http://payscore-sim:"+port; got != want {
			t.Errorf("EXAMPLE_MERCHANT_SIMULATOR_URL %q, want %q", got, want)
		}
		// Its healthcheck asks its own port: the image's default would ask the simulator's.
		_, mport, err := net.SplitHostPort(composeEnv(t, merchant, "EXAMPLE_MERCHANT_ADDR"))
		if err != nil {
			t.Fatal(err)
		}
		if hc := merchant.HealthCheck; hc == nil || !slices.Equal(hc.Test, types.HealthCheckTest{"CMD", "payscore-sim", "healthcheck", "--addr", "127.0.0.1:" + mport}) {
			t.Errorf("healthcheck %+v, want payscore-sim healthcheck --addr 127.0.0.1:%s", hc, mport)
		}
	})

	t.Run("scenarios", func(t *testing.T) {
		if !slices.Equal(scenarios.Profiles, []string{"scenarios"}) {
			t.Errorf("profiles %v, want [scenarios], so that `up` does not run it", scenarios.Profiles)
		}
		if scenarios.Image != sim.Image || scenarios.Build != nil || len(scenarios.Entrypoint) != 0 {
			t.Errorf("image %q, build %+v, entrypoint %v; want the simulator's image and entrypoint", scenarios.Image, scenarios.Build, scenarios.Entrypoint)
		}
		want := types.ShellCommand{"scenario", "run", "--target", "http://payscore-sim:" + port, "--notify-host", scenarios.Name, "/scenarios"}
		if !slices.Equal(scenarios.Command, want) {
			t.Errorf("command %q, want %q", scenarios.Command, want)
		}
		if dep, ok := scenarios.DependsOn["payscore-sim"]; !ok || dep.Condition != types.ServiceConditionHealthy {
			t.Errorf("depends_on %+v, want payscore-sim with condition %s", scenarios.DependsOn, types.ServiceConditionHealthy)
		}
		if len(scenarios.Volumes) != 1 || scenarios.Volumes[0].Type != types.VolumeTypeBind || scenarios.Volumes[0].Target != "/scenarios" ||
			!scenarios.Volumes[0].ReadOnly || !strings.HasSuffix(scenarios.Volumes[0].Source, filepath.Join("fixtures", "scenarios")) {
			t.Errorf("volumes %+v, want fixtures/scenarios mounted read-only at /scenarios", scenarios.Volumes)
		}
		if scenarios.HealthCheck == nil || !scenarios.HealthCheck.Disable || scenarios.Restart != types.RestartPolicyNo {
			t.Errorf("healthcheck %+v, restart %q; a one-shot run needs no healthcheck and no restart", scenarios.HealthCheck, scenarios.Restart)
		}
	})

	// Without the profile, `docker compose up` starts the simulator and the merchant only.
	if got := composeLoad(t).ServiceNames(); !slices.Equal(composeSorted(got), []string{"example-merchant", "payscore-sim"}) {
		t.Errorf("services without profiles: %v, want the simulator and the merchant", got)
	}
}

// The Dockerfile's HEALTHCHECK and environment are the compose service's.
func TestComposeMatchesDockerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(b), "\\\n", " ") // join continued lines
	m := regexp.MustCompile(`(?m)^HEALTHCHECK .*?CMD (\[.*\])\s*$`).FindStringSubmatch(text)
	if m == nil {
		t.Fatal("the Dockerfile has no HEALTHCHECK ... CMD [exec form]")
	}
	var argv []string
	if err := json.Unmarshal([]byte(m[1]), &argv); err != nil {
		t.Fatalf("HEALTHCHECK CMD %s: %v", m[1], err)
	}
	sim := composeLoad(t).Services["payscore-sim"]
	if !slices.Equal(append([]string{"CMD"}, argv...), sim.HealthCheck.Test) {
		t.Errorf("Dockerfile HEALTHCHECK CMD %q, compose healthcheck %q: they should agree", argv, sim.HealthCheck.Test)
	}
	for _, key := range []string{"PAYSCORE_SIM_ADDR", "PAYSCORE_SIM_DB"} {
		if want := key + "=" + composeEnv(t, sim, key); !strings.Contains(text, want) {
			t.Errorf("the Dockerfile does not set %s as the compose service does", want)
		}
	}
	for _, line := range []string{`USER payscore`, `VOLUME /data`, `ENTRYPOINT ["payscore-sim"]`, `CMD ["serve"]`} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(line) + `$`).MatchString(text) {
			t.Errorf("the Dockerfile lacks the line %s", line)
		}
	}
}

// The simulator's service, run from the built binary with the service's command and
// environment (its address moved to a free loopback port, its volume to a temporary
// directory), passes the service's healthcheck; once stopped, it fails it.
func TestComposeServiceRunsAndHealthcheck(t *testing.T) {
	bin := binBuild(t)
	sim := composeLoad(t).Services["payscore-sim"]
	port := composeSimPort(t, sim)
	volume := t.TempDir()

	// The container's environment, its address on loopback, its volume a directory here.
	var serviceEnv []string
	for key, v := range sim.Environment {
		value := *v
		switch {
		case key == "PAYSCORE_SIM_ADDR":
			value = "127.0.0.1:0"
		case strings.HasPrefix(value, sim.Volumes[0].Target+"/"):
			value = filepath.Join(volume, strings.TrimPrefix(value, sim.Volumes[0].Target+"/"))
		}
		serviceEnv = append(serviceEnv, key+"="+value)
	}
	if len(sim.Entrypoint) != 0 {
		t.Fatalf("entrypoint %v: the test runs the image's, payscore-sim", sim.Entrypoint)
	}
	p := binStart(t, append([]string{bin}, sim.Command...), binEnviron(serviceEnv...))
	if _, err := os.Stat(filepath.Join(volume, filepath.Base(composeEnv(t, sim, "PAYSCORE_SIM_DB")))); err != nil {
		t.Errorf("the database is not in the volume: %v", err)
	}

	// The healthcheck exactly as compose gives it, but for the binary's path and the port.
	test := sim.HealthCheck.Test
	if len(test) < 2 || test[0] != "CMD" || test[1] != "payscore-sim" {
		t.Fatalf("healthcheck test %q: want [CMD payscore-sim ...]", test)
	}
	_, realPort, _ := net.SplitHostPort(p.Addr)
	argv := []string{bin}
	for _, arg := range test[2:] {
		argv = append(argv, strings.Replace(arg, "127.0.0.1:"+port, "127.0.0.1:"+realPort, 1))
	}
	// Docker runs the check inside the container, with the container's environment.
	checkEnv := binEnviron(append(serviceEnv, "PAYSCORE_SIM_ADDR="+p.Addr)...)
	healthcheck := func() (string, error) {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = checkEnv
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := healthcheck(); err != nil {
		t.Fatalf("healthcheck %q against the running service: %v\n%s", argv[1:], err, out)
	}

	if err := p.stop(t); err != nil {
		t.Fatalf("payscore-sim exited with %v after SIGTERM; stderr:\n%s", err, p.Stderr())
	}
	out, err := healthcheck()
	var exit *exec.ExitError
	if err == nil || !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("healthcheck against the stopped service: %v (%s), want a non-zero exit", err, out)
	}
}

func composeSorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func composePort(t *testing.T, s string) uint32 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		t.Fatalf("port %q: %v", s, err)
	}
	return uint32(n)
}

// The README's snippet for adding the simulator to one's own compose file is a valid compose
// file whose back end waits for the simulator to be healthy.
func TestComposeReadmeSnippet(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var snippet string
	for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
		if strings.Contains(m[1], "condition: service_healthy") {
			snippet = m[1]
		}
	}
	if snippet == "" {
		t.Fatal("the README has no yaml snippet with condition: service_healthy")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "compose.yaml")
	if err := os.WriteFile(file, []byte(snippet), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := loader.LoadWithContext(t.Context(), types.ConfigDetails{
		WorkingDir: dir, ConfigFiles: []types.ConfigFile{{Filename: file}}, Environment: types.Mapping{},
	}, func(o *loader.Options) { o.SetProjectName("readme", true) })
	if err != nil {
		t.Fatalf("the README's snippet does not load: %v\n%s", err, snippet)
	}
	sim, ok := p.Services["payscore-sim"]
	if !ok || sim.Build == nil {
		t.Fatalf("the snippet's payscore-sim service %+v: want one binBuilt from a checkout", sim)
	}
	waiting := 0
	for _, s := range p.Services {
		if dep, ok := s.DependsOn["payscore-sim"]; ok && dep.Condition == types.ServiceConditionHealthy {
			waiting++
		}
	}
	if waiting == 0 {
		t.Error("no service of the snippet waits for payscore-sim to be healthy")
	}
	// It relies on the image's HEALTHCHECK unless it gives its own.
	if sim.HealthCheck != nil && sim.HealthCheck.Disable {
		t.Error("the snippet disables the simulator's healthcheck")
	}
}
