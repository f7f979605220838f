package partition_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

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

func ExampleSplitTransactions() {
	dir, err := os.MkdirTemp("", "partition-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	csv := filepath.Join(dir, "orders.csv")
	data := "InvoiceNo,Quantity,InvoiceDate,UnitPrice,CustomerID\n" +
		"536365,6,2010-12-01 08:26:00,2.55,17850\n" +
		"536366,6,2010-12-01 08:28:00,1.85,17850\n" +
		"536367,32,2010-12-01 08:34:00,1.69,\n" +
		"C536379,-1,2010-12-01 09:41:00,27.5,14527\n" +
		"536370,24,2010-12-01 08:45:00,3.75,12583\n"
	if err := os.WriteFile(csv, []byte(data), 0o644); err != nil {
		log.Fatal(err)
	}
	res, err := partition.SplitTransactions(context.Background(), csv, partition.TransactionOptions{
		Key: "CustomerID", Time: "InvoiceDate", Quantity: "Quantity", Price: "UnitPrice", Invoice: "InvoiceNo",
		SkipMissingKey: true, Shards: 1, TempDir: dir,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("rows:", res.Rows, "customers:", res.Customers, "skipped:", res.SkippedMissingKey, "returns:", res.Returns)
	fmt.Println("from", res.FirstTime.Format(time.DateTime), "to", res.LastTime.Format(time.DateTime))

	f, err := os.Open(res.Shards[0].Path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	tx, err := partition.ReadTransactions(f, res.Shards[0].Size)
	if err != nil {
		log.Fatal(err)
	}
	for i, customer := range tx.Keys {
		for r := tx.Ptr[i]; r < tx.Ptr[i+1]; r++ {
			fmt.Printf("%s %s %s %.2f return=%v\n", customer, time.Unix(tx.Time[r], 0).UTC().Format(time.TimeOnly), tx.Invoice[r], tx.Amount[r], tx.Return[r])
		}
	}
	// Output:
	// rows: 4 customers: 3 skipped: 1 returns: 1
	// from 2010-12-01 08:26:00 to 2010-12-01 09:41:00
	// 12583 08:45:00 536370 90.00 return=false
	// 14527 09:41:00 C536379 -27.50 return=true
	// 17850 08:26:00 536365 15.30 return=false
	// 17850 08:28:00 536366 11.10 return=false
}
