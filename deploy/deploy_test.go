// Package deploy holds the container, compose, Kubernetes and systemd
// files; its tests check them against the Kubernetes API types, systemd
// and the mathcrm binary's own flags.
package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/mathcrm/mathcrm/internal/testutil"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

var bin string

func TestMain(m *testing.M) { testutil.RunWithBinary(m, "../cmd/mathcrm", &bin) }

// manifests are the decoded objects of every file in kubernetes/.
type manifests struct {
	namespaces   []*corev1.Namespace
	services     []*corev1.Service
	statefulSets []*appsv1.StatefulSet
	deployments  []*appsv1.Deployment
	pdbs         []*policyv1.PodDisruptionBudget
	hpas         []*autoscalingv2.HorizontalPodAutoscaler
	files        []string
}

// decode decodes one document strictly: an unknown or misspelt field, a
// wrong type or a duplicate key is an error.
func (m *manifests) decode(file string, doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	var obj any
	switch tm.APIVersion + " " + tm.Kind {
	case "v1 Namespace":
		o := &corev1.Namespace{}
		m.namespaces, obj = append(m.namespaces, o), o
	case "v1 Service":
		o := &corev1.Service{}
		m.services, obj = append(m.services, o), o
	case "apps/v1 StatefulSet":
		o := &appsv1.StatefulSet{}
		m.statefulSets, obj = append(m.statefulSets, o), o
	case "apps/v1 Deployment":
		o := &appsv1.Deployment{}
		m.deployments, obj = append(m.deployments, o), o
	case "policy/v1 PodDisruptionBudget":
		o := &policyv1.PodDisruptionBudget{}
		m.pdbs, obj = append(m.pdbs, o), o
	case "autoscaling/v2 HorizontalPodAutoscaler":
		o := &autoscalingv2.HorizontalPodAutoscaler{}
		m.hpas, obj = append(m.hpas, o), o
	default:
		return fmt.Errorf("kind %q of apiVersion %q is not one this test knows; add it", tm.Kind, tm.APIVersion)
	}
	return yaml.UnmarshalStrict(doc, obj)
}

func loadManifests(t *testing.T) *manifests {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := &manifests{}
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		m.files = append(m.files, filepath.Base(f))
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(b), -1) {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			if err := m.decode(f, []byte(doc)); err != nil {
				t.Fatalf("%s, document %d: %v", f, i+1, err)
			}
		}
	}
	return m
}

func stripComments(doc string) string {
	var out []string
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestStrictDecodingCatchesMistakes shows that the decoding above would
// catch a misspelt field, so the test of the manifests can fail.
func TestStrictDecodingCatchesMistakes(t *testing.T) {
	var m manifests
	bad := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replica: 2\n"
	if err := m.decode("bad.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "replica") {
		t.Fatalf("a misspelt field decoded: %v", err)
	}
}

func TestKubernetesManifests(t *testing.T) {
	m := loadManifests(t)
	if len(m.namespaces) != 1 || len(m.statefulSets) != 3 || len(m.deployments) != 1 || len(m.pdbs) != 1 || len(m.hpas) != 1 || len(m.services) != 3 {
		t.Fatalf("want a namespace, 3 StatefulSets (NATS, seed, coordinators), a worker Deployment, a PDB, an HPA and 3 Services; got %d %d %d %d %d %d",
			len(m.namespaces), len(m.statefulSets), len(m.deployments), len(m.pdbs), len(m.hpas), len(m.services))
	}
	ns := m.namespaces[0].Name
	var pods []*corev1.PodTemplateSpec
	for _, s := range m.statefulSets {
		if len(s.Spec.VolumeClaimTemplates) != 1 {
			t.Errorf("StatefulSet %s keeps no persistent volume", s.Name)
		}
		checkSelector(t, "StatefulSet "+s.Name, s.Spec.Selector, s.Spec.Template.Labels)
		pods = append(pods, &s.Spec.Template)
	}
	for _, d := range m.deployments {
		checkSelector(t, "Deployment "+d.Name, d.Spec.Selector, d.Spec.Template.Labels)
		pods = append(pods, &d.Spec.Template)
	}
	secretsUsed := map[string]bool{}
	for _, p := range pods {
		checkPod(t, p, secretsUsed)
	}
	if want := []string{"mathcrm-coordinator", "mathcrm-nats", "mathcrm-worker"}; !slices.Equal(keys(secretsUsed), want) {
		t.Errorf("pods mount the Secrets %v; README.md makes %v", keys(secretsUsed), want)
	}
	readme, err := os.ReadFile("kubernetes/README.md")
	if err != nil {
		t.Fatal(err)
	}
	for s := range secretsUsed {
		if !strings.Contains(string(readme), "create secret generic "+s+" ") {
			t.Errorf("kubernetes/README.md does not say how to create Secret %s", s)
		}
	}

	// The PDB covers every coordinator and keeps a majority of them.
	pdb := m.pdbs[0]
	sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	if err != nil {
		t.Fatal(err)
	}
	voters := 0
	for _, s := range m.statefulSets {
		if sel.Matches(labels.Set(s.Spec.Template.Labels)) {
			voters += int(*s.Spec.Replicas)
		}
	}
	if voters != 3 || pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != voters/2+1 {
		t.Errorf("PDB %s covers %d voters and keeps %v; want 3 voters and a majority of them", pdb.Name, voters, pdb.Spec.MinAvailable)
	}
	// The autoscaler scales the worker Deployment.
	hpa := m.hpas[0]
	if hpa.Spec.ScaleTargetRef.Kind != "Deployment" || hpa.Spec.ScaleTargetRef.Name != m.deployments[0].Name {
		t.Errorf("HPA scales %s %s, not the worker Deployment", hpa.Spec.ScaleTargetRef.Kind, hpa.Spec.ScaleTargetRef.Name)
	}
	// Every object is in the namespace, and every Service selects pods.
	for _, s := range m.services {
		if s.Namespace != ns {
			t.Errorf("Service %s is in namespace %q, not %q", s.Name, s.Namespace, ns)
		}
		matched := false
		for _, p := range pods {
			matched = matched || labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(p.Labels))
		}
		if !matched {
			t.Errorf("Service %s selects no pod", s.Name)
		}
	}

	// The kustomization lists every manifest.
	var k struct {
		APIVersion string   `json:"apiVersion"`
		Kind       string   `json:"kind"`
		Namespace  string   `json:"namespace"`
		Resources  []string `json:"resources"`
		Images     []struct {
			Name    string `json:"name"`
			NewName string `json:"newName"`
			NewTag  string `json:"newTag"`
		} `json:"images"`
	}
	kb, err := os.ReadFile("kubernetes/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(kb, &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	res := slices.Clone(k.Resources)
	sort.Strings(res)
	if k.Kind != "Kustomization" || k.Namespace != ns || !slices.Equal(res, m.files) {
		t.Errorf("kustomization.yaml lists %v in %q, the directory holds %v", res, k.Namespace, m.files)
	}
}

func checkSelector(t *testing.T, what string, s *metav1.LabelSelector, podLabels map[string]string) {
	t.Helper()
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil || sel.Empty() || !sel.Matches(labels.Set(podLabels)) {
		t.Errorf("%s: selector %v does not select its own pods (%v): %v", what, s, podLabels, err)
	}
}

// checkPod holds a pod to what the security review asks: non-root, no
// privilege escalation, read-only root, secrets as files named by
// MATHCRM_CREDS and MATHCRM_CA, no secret in the spec.
func checkPod(t *testing.T, p *corev1.PodTemplateSpec, secretsUsed map[string]bool) {
	t.Helper()
	name := p.Labels["app.kubernetes.io/component"]
	ps := p.Spec.SecurityContext
	if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.SeccompProfile == nil {
		t.Errorf("%s: the pod must run as non-root with a seccomp profile", name)
	}
	if p.Spec.AutomountServiceAccountToken == nil || *p.Spec.AutomountServiceAccountToken {
		t.Errorf("%s: the pod needs no Kubernetes API token", name)
	}
	mounts := map[string]string{}
	for _, v := range p.Spec.Volumes {
		if v.Secret != nil {
			secretsUsed[v.Secret.SecretName] = true
			mounts[v.Name] = v.Secret.SecretName
		}
	}
	for _, c := range p.Spec.Containers {
		sc := c.SecurityContext
		if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.ReadOnlyRootFilesystem == nil ||
			!*sc.ReadOnlyRootFilesystem || sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
			t.Errorf("%s/%s: no privilege escalation, a read-only root and no capabilities", name, c.Name)
		}
		if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s/%s: set memory requests and limits", name, c.Name)
		}
		secretDir := ""
		for _, vm := range c.VolumeMounts {
			if mounts[vm.Name] != "" {
				secretDir = vm.MountPath
				if !vm.ReadOnly {
					t.Errorf("%s/%s: mount the Secret read-only", name, c.Name)
				}
			}
		}
		if secretDir == "" {
			t.Errorf("%s/%s mounts no Secret", name, c.Name)
		}
		env := map[string]string{}
		for _, e := range c.Env {
			env[e.Name] = e.Value
		}
		if c.Args[0] != "nats" {
			for _, v := range []string{"MATHCRM_CREDS", "MATHCRM_CA"} {
				if !strings.HasPrefix(env[v], secretDir+"/") {
					t.Errorf("%s/%s: %s is %q, not a file in the Secret mounted at %s", name, c.Name, v, env[v], secretDir)
				}
			}
		}
		for k, v := range env {
			if looksSecret(v) {
				t.Errorf("%s/%s: environment variable %s holds what looks like a secret", name, c.Name, k)
			}
		}
		for _, a := range c.Args {
			if looksSecret(a) {
				t.Errorf("%s/%s: argument %q looks like a secret", name, c.Name, a)
			}
		}
	}
}

// looksSecret reports an nkey seed, a PEM block or a long random token.
func looksSecret(s string) bool {
	return strings.HasPrefix(s, "SU") && len(s) > 50 || strings.Contains(s, "-----BEGIN") ||
		regexp.MustCompile(`^[A-Za-z0-9_-]{32,}$`).MatchString(s)
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// command is one mathcrm command line a deploy file runs.
type command struct {
	where string
	args  []string
}

func (c command) String() string { return c.where + ": mathcrm " + strings.Join(c.args, " ") }

// commands collects the mathcrm command lines of the compose file, the
// Kubernetes manifests and the systemd units.
func commands(t *testing.T) []command {
	t.Helper()
	var out []command
	var compose struct {
		Services map[string]struct {
			Command []string `json:"command"`
		} `json:"services"`
	}
	b, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for name, s := range compose.Services {
		out = append(out, command{"compose.yaml " + name, s.Command})
	}
	m := loadManifests(t)
	var pods []*corev1.PodTemplateSpec
	for _, s := range m.statefulSets {
		pods = append(pods, &s.Spec.Template)
	}
	for _, d := range m.deployments {
		pods = append(pods, &d.Spec.Template)
	}
	for _, p := range pods {
		for _, c := range p.Spec.Containers {
			out = append(out, command{"kubernetes " + c.Name, c.Args})
		}
	}
	units, _ := filepath.Glob("systemd/*.service")
	for _, u := range units {
		b, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ReplaceAll(string(b), "\\\n", " ")
		for _, l := range strings.Split(s, "\n") {
			if rest, ok := strings.CutPrefix(l, "ExecStart=/usr/local/bin/mathcrm "); ok {
				out = append(out, command{u, strings.Fields(rest)})
			}
		}
	}
	if len(out) < 8 {
		t.Fatalf("found only %d mathcrm command lines", len(out))
	}
	return out
}

// credentialFlags are the flags by which processes take their credentials.
var credentialFlags = []string{"--creds", "--ca"}

// TestDeployCommandsUseRealFlags runs `mathcrm SUBCOMMAND --help` for every
// command line in the deploy files and checks that each flag it passes
// exists, so a renamed flag cannot leave the deploy files behind.
func TestDeployCommandsUseRealFlags(t *testing.T) {
	top, err := exec.Command(bin, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("mathcrm --help: %v\n%s", err, top)
	}
	// The credential flags belong to the whole binary once it has them.
	hasCreds := bytes.Contains(top, []byte("--creds"))
	if !hasCreds {
		t.Logf("this mathcrm has no %v yet: those are not checked", credentialFlags)
	}
	help := map[string]string{}
	for _, c := range commands(t) {
		if len(c.args) == 0 {
			t.Errorf("%s: no subcommand", c.where)
			continue
		}
		sub := c.args[0]
		if _, ok := help[sub]; !ok {
			out, err := exec.Command(bin, sub, "--help").CombinedOutput()
			if err != nil {
				t.Fatalf("mathcrm %s --help: %v\n%s", sub, err, out)
			}
			help[sub] = string(out)
		}
		for _, a := range c.args[1:] {
			flag, _, _ := strings.Cut(a, "=")
			if !strings.HasPrefix(flag, "--") {
				continue
			}
			if !hasCreds && (slices.Contains(credentialFlags, flag) || sub == "nats" && flag == "--config") {
				continue
			}
			if !strings.Contains(help[sub], flag+" ") {
				t.Errorf("%s: mathcrm %s has no flag %s", c, sub, flag)
			}
		}
		if sub != "nats" && !slices.Contains(c.args, "--creds") && !strings.HasPrefix(c.where, "compose") && !strings.HasPrefix(c.where, "kubernetes") {
			t.Errorf("%s: takes no --creds", c)
		}
	}
}

// sandbox are the directives every unit must have.
var sandbox = []string{
	"DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes", "ProtectHome=yes",
	"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "SystemCallFilter=@system-service", "CapabilityBoundingSet=\n",
	"LoadCredential=ca.crt:",
}

// TestSystemdUnits runs systemd-analyze verify on the units, with the
// binary just built in ExecStart's place, and holds their sandboxing to
// systemd-analyze security's exposure level.
func TestSystemdUnits(t *testing.T) {
	units, err := filepath.Glob("systemd/*.service")
	if err != nil || len(units) != 3 {
		t.Fatalf("want 3 units in systemd/, got %v %v", units, err)
	}
	for _, u := range units {
		b, _ := os.ReadFile(u)
		for _, d := range sandbox {
			if !strings.Contains(string(b), d) {
				t.Errorf("%s lacks %q", u, strings.TrimSpace(d))
			}
		}
		if !strings.Contains(string(b), "ExecStart=/usr/local/bin/mathcrm ") {
			t.Errorf("%s does not run /usr/local/bin/mathcrm", u)
		}
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("no systemd-analyze (apt-get install systemd); the units' directives were still checked")
	}
	dir := t.TempDir()
	var paths []string
	for _, u := range units {
		b, _ := os.ReadFile(u)
		b = bytes.ReplaceAll(b, []byte("/usr/local/bin/mathcrm"), []byte(bin))
		name := filepath.Base(u)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, "@.service") {
			inst := strings.Replace(name, "@.service", "@c1.service", 1)
			if err := os.Symlink(name, filepath.Join(dir, inst)); err != nil {
				t.Fatal(err)
			}
			name = inst
		}
		paths = append(paths, filepath.Join(dir, name))
	}
	out, err := exec.Command(analyze, append([]string{"verify", "--man=no"}, paths...)...).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	for _, p := range paths {
		out, err := exec.Command(analyze, "security", "--offline=yes", "--threshold=20", p).CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) || err != nil {
			t.Errorf("systemd-analyze security %s: exposure above 2.0 (%v):\n%s", filepath.Base(p), err, lastLines(out, 3))
			continue
		}
		t.Logf("%s: %s", filepath.Base(p), lastLines(out, 1))
	}
}

func lastLines(b []byte, n int) string {
	ls := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(ls[max(0, len(ls)-n):], "\n")
}

// TestComposeSecured checks that every compose service gets its
// credentials as secret files and none in its environment.
func TestComposeSecured(t *testing.T) {
	b, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		XCoordinator struct {
			Environment map[string]string `json:"environment"`
			Secrets     []string          `json:"secrets"`
		} `json:"x-coordinator"`
		Services map[string]struct {
			Environment map[string]string `json:"environment"`
			Secrets     []string          `json:"secrets"`
			Command     []string          `json:"command"`
		} `json:"services"`
		Secrets map[string]struct {
			File string `json:"file"`
		} `json:"secrets"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	for name, s := range c.Services {
		if strings.HasPrefix(name, "coordinator-") {
			s.Environment, s.Secrets = c.XCoordinator.Environment, c.XCoordinator.Secrets
		}
		if len(s.Secrets) == 0 {
			t.Errorf("service %s mounts no secret", name)
		}
		for _, sec := range s.Secrets {
			if c.Secrets[sec].File != "./secrets/"+sec {
				t.Errorf("service %s: secret %s is not the file ./secrets/%s", name, sec, sec)
			}
		}
		role := strings.TrimSuffix(strings.SplitN(name, "-", 2)[0], "s")
		if name == "nats" {
			if !slices.Contains(s.Secrets, "jetstream-key.conf") || !slices.Contains(s.Command, "/run/secrets/nats.conf") {
				t.Errorf("nats runs without the generated configuration and its JetStream key: %v %v", s.Command, s.Secrets)
			}
			continue
		}
		if s.Environment["MATHCRM_CREDS"] != "/run/secrets/"+role+".nk" || s.Environment["MATHCRM_CA"] != "/run/secrets/ca.crt" ||
			!slices.Contains(s.Secrets, role+".nk") {
			t.Errorf("service %s: MATHCRM_CREDS %q, MATHCRM_CA %q, secrets %v", name, s.Environment["MATHCRM_CREDS"], s.Environment["MATHCRM_CA"], s.Secrets)
		}
		for k, v := range s.Environment {
			if looksSecret(v) {
				t.Errorf("service %s: %s looks like a secret", name, k)
			}
		}
	}
}
