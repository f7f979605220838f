package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// CustomerPage is one customer's rows in every score set.
type CustomerPage struct {
	*proto.CustomerScores
}

// Cells formats a row for the page: numbers to 6 digits, nulls as "-".
func (CustomerPage) Cells(row []any) []string {
	out := make([]string, len(row))
	for i, v := range row {
		switch x := v.(type) {
		case nil:
			out[i] = "-"
		case float64:
			out[i] = strconv.FormatFloat(x, 'g', 6, 64)
		default:
			out[i] = fmt.Sprint(x)
		}
	}
	return out
}

func customerKey(r *http.Request) (string, error) {
	key := r.PathValue("key")
	switch {
	case key == "":
		return "", fmt.Errorf("%w: no customer key in %s", errBadRequest, r.URL.Path)
	case len(key) > proto.MaxKeyBytes:
		return "", fmt.Errorf("%w: a customer key of %d bytes (at most %d)", errBadRequest, len(key), proto.MaxKeyBytes)
	}
	return key, nil
}

func (c *Console) customer(ctx context.Context, r *http.Request) (any, error) {
	key, err := customerKey(r)
	if err != nil {
		return nil, err
	}
	cs, err := c.src.Customer(ctx, key)
	if err != nil {
		return nil, err
	}
	return CustomerPage{cs}, nil
}

// customerJSON is the lookup API for applications: always JSON, 404 with a
// JSON body naming the key when no score set has it.
func (c *Console) customerJSON(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), ReadTimeout)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	var out any
	status := http.StatusOK
	key, err := customerKey(r)
	if err == nil {
		out, err = c.src.Customer(ctx, key)
	}
	if err != nil {
		status = statusOf(err)
		out = errorPage{Status: status, Error: err.Error()}
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(out)
}
