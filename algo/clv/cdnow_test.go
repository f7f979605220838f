package clv

import "testing"

func TestCDNOWPublished(t *testing.T) {
	rows := loadCDNOW(t)
	for _, model := range []string{BGNBD, ParetoNBD} {
		m, err := Reference(Config{CalibrationEnd: cdnowCalEnd, Model: model}, shardRows(rows, 1)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%+v", m.Purchase)
		t.Logf("%+v", m.Spend)
		t.Logf("%+v %v", m.Counts, m.Warnings)
	}
}
