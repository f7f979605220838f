package basket

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mathcrm/mathcrm/partition"
)

// The Online Retail sample imported as transactions with --item StockCode
// --item-name Description: its invoice baskets, returns left out, are
// exactly those of reading the CSV here (rows with a customer id, positive
// quantities, grouped by invoice), whatever the shard count, and the mined
// model carries each frequent item's first non-blank description.
func TestOnlineRetailTransactionBaskets(t *testing.T) {
	want, names := onlineRetailCustomerInvoices(t)
	for _, shards := range []int{1, 4} {
		res, err := partition.SplitTransactions(context.Background(), "../../testdata/online-retail/onlineretail-sample.csv.gz",
			partition.TransactionOptions{Key: "CustomerID", Time: "InvoiceDate", Quantity: "Quantity", Price: "UnitPrice",
				Invoice: "InvoiceNo", Item: "StockCode", ItemName: "Description", SkipMissingKey: true, Shards: shards, TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		var parts []*Baskets
		for _, sf := range res.Shards {
			data, err := os.ReadFile(sf.Path)
			if err != nil {
				t.Fatal(err)
			}
			s, err := partition.ReadTransactions(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			b := FromTransactions(s, s.Item, BasketInvoice, true)
			b.Names = s.ItemNames
			for _, l := range basketLists(b) {
				got = append(got, strings.Join(l, " "))
			}
			parts = append(parts, b)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("%d shards: %d baskets, want %d", shards, len(got), len(want))
		}
		m, err := Reference(Config{MinSupport: 0.01, MinConfidence: 0.3, MaxLen: 3}, parts...)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Names) == 0 {
			t.Fatal("model has no item names")
		}
		for _, is := range m.Itemsets {
			if len(is.Items) == 1 && m.Names[is.Items[0]] != names[is.Items[0]] {
				t.Fatalf("item %s named %q, want %q", is.Items[0], m.Names[is.Items[0]], names[is.Items[0]])
			}
		}
	}
}

// onlineRetailCustomerInvoices reads the sample's invoice baskets of rows
// with a customer id and a positive quantity, each as its sorted distinct
// StockCodes joined by spaces, sorted; and every item's first non-blank
// description among rows with a customer id.
func onlineRetailCustomerInvoices(t *testing.T) ([]string, map[string]string) {
	f, err := os.Open("../../testdata/online-retail/onlineretail-sample.csv.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	cr := csv.NewReader(zr)
	head, err := cr.Read()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	byInvoice := map[string][]string{}
	names := map[string]string{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(rec[col["CustomerID"]]) == "" {
			continue
		}
		item, desc := rec[col["StockCode"]], strings.TrimSpace(rec[col["Description"]])
		if names[item] == "" {
			names[item] = desc
		}
		if q, err := strconv.ParseFloat(rec[col["Quantity"]], 64); err != nil {
			t.Fatal(err)
		} else if q < 0 {
			continue
		}
		byInvoice[rec[col["InvoiceNo"]]] = append(byInvoice[rec[col["InvoiceNo"]]], item)
	}
	var out []string
	for _, l := range byInvoice {
		slices.Sort(l)
		out = append(out, strings.Join(slices.Compact(l), " "))
	}
	slices.Sort(out)
	return out, names
}
