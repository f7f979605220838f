package partition_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/mathcrm/mathcrm/partition"
)

func ExampleShardOf() {
	fmt.Println(partition.ShardOf("7590-VHVEG", 64), partition.ShardOf("5575-GNVDE", 64))
	// Output: 43 5
}

func ExampleSplit() {
	dir, err := os.MkdirTemp("", "partition-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	csv := filepath.Join(dir, "customers.csv")
	data := "customerID,plan,tenure,TotalCharges\n" +
		"7590-VHVEG,basic,1,29.85\n" +
		"5575-GNVDE,pro,34,1889.5\n" +
		"3668-QPYBK,pro,2, \n"
	if err := os.WriteFile(csv, []byte(data), 0o644); err != nil {
		log.Fatal(err)
	}
	out := filepath.Join(dir, "shards")
	if err := os.Mkdir(out, 0o755); err != nil {
		log.Fatal(err)
	}

	res, err := partition.Split(context.Background(), csv, partition.Options{
		Key: "customerID", Shards: 4, TempDir: out,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("rows:", res.Rows, "ignored:", res.Ignored)
	for _, c := range res.Columns {
		fmt.Printf("%s: count %d, missing %d, mean %.2f\n", c.Name, c.Count, c.Missing, c.Mean)
	}

	for _, sf := range res.Shards {
		f, err := os.Open(sf.Path)
		if err != nil {
			log.Fatal(err)
		}
		shard, err := partition.ReadShard(f, sf.Size)
		f.Close()
		if err != nil {
			log.Fatal(err)
		}
		charges, _ := shard.Column("TotalCharges")
		fmt.Printf("shard %d: %v %v\n", sf.Index, shard.Keys, charges)
	}
	// Output:
	// rows: 3 ignored: [plan]
	// tenure: count 3, missing 0, mean 12.33
	// TotalCharges: count 2, missing 1, mean 959.68
	// shard 0: [] []
	// shard 1: [5575-GNVDE] [1889.5]
	// shard 2: [] []
	// shard 3: [7590-VHVEG 3668-QPYBK] [29.85 NaN]
}
