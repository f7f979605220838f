package devcluster_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/coordinator"
	"github.com/mathcrm/mathcrm/internal/devcluster"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/nats-io/nats.go"
)

// FuzzAPI sends arbitrary requests to every API verb of a real leader, as
// raw bytes and inside a valid envelope: every request gets an answer (an
// error or a result), never a crash or silence, and the cluster still
// answers afterwards. Verbs that change cluster membership or replace the
// whole state are left out: a valid such request is allowed to end the
// cluster.
func FuzzAPI(f *testing.F) {
	seeds := []string{`{}`, `null`, `[]`, `{"name":""}`, `{"name":"x","version":-1}`, `{"algo":"kmeans","dataset":"d","kmeans":{"k":-1}}`,
		`{"key":"` + string(make([]byte, 40)) + `"}`, `{"name":"d","kind":"features","shards":[{"index":-5}]}`, "\xff\x00garbage", `{"v":1,"body":7}`}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := devcluster.Start(ctx, devcluster.Config{DataDir: f.TempDir(), Workers: 1, NATSListen: "127.0.0.1:0",
		Logger:      slog.New(slog.DiscardHandler),
		Coordinator: func(cfg *coordinator.Config) { cfg.FastRaft = true }})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = c.Close() })
	nc, err := nats.Connect(c.URL)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(nc.Close)
	var verbs []string
	for _, v := range c.Coord.Verbs() {
		if !slices.Contains([]string{proto.APIAddVoter, proto.APIRemoveVoter, "cluster.restore"}, v) {
			verbs = append(verbs, v)
		}
	}
	f.Fuzz(func(t *testing.T, verb uint8, body []byte) {
		v := verbs[int(verb)%len(verbs)]
		ask := func(data []byte) {
			m, err := nc.Request(proto.APIPrefix+v, data, 30*time.Second)
			if err != nil {
				t.Fatalf("%s %q: no answer: %v", v, data, err)
			}
			var resp proto.Response
			if err := json.Unmarshal(m.Data, &resp); err != nil {
				t.Fatalf("%s %q: answer is not a response: %v", v, data, err)
			}
		}
		ask(body)
		if json.Valid(body) {
			env, _ := json.Marshal(proto.Request{V: proto.Version, Body: body})
			ask(env)
		}
		ask([]byte(`{"v":1}`)) // still answering
	})
}
