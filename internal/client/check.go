package client

import (
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/partition"
)

// importCheck is what an import can tell the leader about the version it
// will write before it reads its file: the name, the kind, the key and, when
// named, the columns.
func importCheck(name string, o ImportOptions) proto.DatasetCheck {
	dc := proto.DatasetCheck{Name: name, Kind: o.Kind, Replace: o.Replace}
	switch o.Kind {
	case proto.KindInteractions:
		dc.Key = o.Interactions.User
	case proto.KindTransactions:
		dc.Key = o.Transactions.Key
	default:
		dc.Kind, dc.Key = proto.KindFeatures, o.Key
		if o.Key == partition.RowKey {
			dc.Key = "" // the key column is named once the header is read; the commit checks it
		}
		if len(o.Columns) > 0 {
			dc.Columns = append(append(dc.Columns, o.Columns...), o.Categorical...)
		}
	}
	return dc
}
