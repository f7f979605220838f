package rfmjob

import (
	"context"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/algo/rfm"
	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// FuzzWritePass gives the write pass a worker's payload of any bytes, and
// a new leader a saved state made from it: an error or a result, never a
// panic.
func FuzzWritePass(f *testing.F) {
	good, _ := blob.Marshal(Written{Moments: make([]proto.Moments, rfm.NumColumns), Segments: make([]int64, 11)})
	f.Add(good, int64(0))
	f.Add([]byte{0x80}, int64(3))
	f.Fuzz(func(t *testing.T, payload []byte, rows int64) {
		ver := txVersion(time.Time{}, time.Unix(30*86400, 0).UTC())
		spec := Spec("tx", Params{As: "f"})
		tx := &rfm.Tx{Keys: []string{"a", "b"}, Ptr: []int32{0, 1, 2}, Time: []int64{86400, 2 * 86400}, Amount: []float64{5, 7}}
		jb, err := (Algorithm{}).NewJob(context.Background(), nil, "job-1", spec, ver)
		if err != nil {
			t.Fatal(err)
		}
		j := jb.(*rfmJob)
		for {
			task, done := j.Next()
			if done || task.(*Task).Write != nil {
				break
			}
			res, err := rfm.RunTask(task.(*Task).Search, tx)
			if err != nil {
				t.Fatal(err)
			}
			p := &proto.Partial{}
			if err := job.Encode(p, Name, res); err != nil {
				t.Fatal(err)
			}
			if err := j.Absorb([]*proto.Partial{p}); err != nil {
				t.Fatal(err)
			}
		}
		p := &proto.Partial{Algo: Name, Payload: payload, Output: &proto.ShardRef{Object: "o", Rows: rows}}
		if j.Absorb([]*proto.Partial{p}) != nil {
			return
		}
		_, _ = j.Finish()
		b, err := j.Save()
		if err != nil {
			t.Fatal(err)
		}
		again, _ := newJob(spec, j.p, ver, "job-1")
		if err := again.Load(b); err != nil {
			t.Fatal(err)
		}
		_, _ = again.Finish()
		// A state saved by a build that wrote fewer statistics than shards.
		again.moments = nil
		if _, err := again.Finish(); err == nil {
			t.Fatal("finished without the shards' statistics")
		}
	})
}
