package notify

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// A notify_url is the merchant's to choose, and the simulator shows the first KiB of each
// answer (/sim/v1/notifications/{id}): a notify_url that pointed at a cloud metadata service
// would let whoever can create an order read the host's cloud credentials. So, unless
// AllowLinkLocal is set, the worker's own client refuses to connect to link-local addresses
// (169.254.0.0/16, fe80::/10, where AWS, GCP, Azure and Tencent Cloud serve metadata) and to the
// other known metadata addresses. It checks the address it is about to connect to, after DNS,
// so that a name resolving there is refused too. Loopback and private addresses stay allowed:
// local receivers and compose services live there.

// metadataAddrs are cloud metadata services outside the link-local ranges.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
	netip.MustParseAddr("fd00:ec2::254"),   // AWS, over IPv6
}

// refusedAddr says why the worker must not connect to ip, or "" when it may.
func refusedAddr(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast():
		return "a link-local address, where cloud metadata services answer"
	}
	for _, m := range metadataAddrs {
		if ip == m {
			return "a cloud metadata service's address"
		}
	}
	return ""
}

// guardedTransport is http.DefaultTransport's configuration with a dialer that refuses the
// addresses above.
func guardedTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: refuseDial}
	t.DialContext = d.DialContext
	return t
}

// refuseDial is the dialer's Control: it runs with the resolved address, before connecting.
func refuseDial(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return nil
	}
	if why := refusedAddr(ap.Addr()); why != "" {
		return fmt.Errorf("refused to connect to %s, %s: start the simulator with --notify-allow-link-local to send notifications there", ap.Addr(), why)
	}
	return nil
}
