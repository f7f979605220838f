package clustertest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// netlab is a private network of test hosts: a bridge in this namespace and
// one network namespace per host, joined to the bridge by a veth pair. A host
// is cut off by taking its link down: its TCP connections stall as on a real
// network partition, the process lives on.
type netlab struct {
	t      *testing.T
	tag    string
	subnet int
	bridge string
	hosts  map[string]int // host name -> last octet
	// forward is set when an iptables rule lets the bridge forward.
	forward bool
}

// newNetlab makes the lab, or skips the test where namespaces cannot be made.
func newNetlab(t *testing.T) *netlab {
	t.Helper()
	n, why := makeNetlab(t)
	if n == nil {
		t.Skip(why)
	}
	return n
}

// makeNetlab makes the lab, or says why it cannot.
func makeNetlab(t *testing.T) (*netlab, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil, "network namespaces need root"
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, "network namespaces need iproute2's ip"
	}
	labs++
	n := &netlab{t: t, tag: fmt.Sprintf("mc%d%d", os.Getpid()%10000, labs), subnet: (100 + os.Getpid() + labs) % 250, hosts: map[string]int{}}
	n.bridge = n.tag + "br"
	if err := n.run("ip", "link", "add", n.bridge, "type", "bridge"); err != nil {
		return nil, fmt.Sprintf("cannot make a bridge here: %v", err)
	}
	t.Cleanup(n.close)
	n.must("ip", "addr", "add", n.gateway()+"/24", "dev", n.bridge)
	n.must("ip", "link", "set", n.bridge, "up")
	// Where bridged frames go through iptables (br_netfilter, as Docker sets
	// up) with a FORWARD policy of DROP, let the lab's own traffic through.
	if _, err := exec.LookPath("iptables"); err == nil {
		if n.run("iptables", "-I", "FORWARD", "-i", n.bridge, "-o", n.bridge, "-j", "ACCEPT") == nil {
			n.forward = true
		}
	}
	return n, ""
}

// labs counts the labs this test process made, to keep their names apart.
var labs int

func (n *netlab) gateway() string { return fmt.Sprintf("10.213.%d.1", n.subnet) }

// IP is a host's address.
func (n *netlab) IP(host string) string { return fmt.Sprintf("10.213.%d.%d", n.subnet, n.hosts[host]) }

func (n *netlab) ns(host string) string   { return n.tag + host }
func (n *netlab) veth(host string) string { return n.tag + host + "h" }

// addHost makes a namespace with its own address on the lab network.
func (n *netlab) addHost(host string) {
	n.t.Helper()
	n.hosts[host] = 10 + len(n.hosts)
	ns, outer, inner := n.ns(host), n.veth(host), n.tag+host+"n"
	n.must("ip", "netns", "add", ns)
	n.must("ip", "link", "add", outer, "type", "veth", "peer", "name", inner)
	n.must("ip", "link", "set", inner, "netns", ns)
	n.must("ip", "link", "set", outer, "master", n.bridge)
	n.must("ip", "link", "set", outer, "up")
	n.must("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
	n.must("ip", "netns", "exec", ns, "ip", "addr", "add", n.IP(host)+"/24", "dev", inner)
	n.must("ip", "netns", "exec", ns, "ip", "link", "set", inner, "up")
}

// command runs name inside a host's namespace.
func (n *netlab) command(host string, name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", n.ns(host), name}, args...)...)
}

// cut takes a host off the network; heal puts it back.
func (n *netlab) cut(host string)  { n.must("ip", "link", "set", n.veth(host), "down") }
func (n *netlab) heal(host string) { n.must("ip", "link", "set", n.veth(host), "up") }

func (n *netlab) close() {
	for host := range n.hosts {
		_ = n.run("ip", "link", "del", n.veth(host))
		_ = n.run("ip", "netns", "del", n.ns(host))
	}
	if n.forward {
		_ = n.run("iptables", "-D", "FORWARD", "-i", n.bridge, "-o", n.bridge, "-j", "ACCEPT")
	}
	_ = n.run("ip", "link", "del", n.bridge)
}

func (n *netlab) run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

func (n *netlab) must(name string, args ...string) {
	n.t.Helper()
	if err := n.run(name, args...); err != nil {
		n.t.Fatal(err)
	}
}
