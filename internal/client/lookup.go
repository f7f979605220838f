package client

import (
	"context"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// Customer returns one customer's rows in the latest version of every score
// set that has the customer.
func (c *Client) Customer(ctx context.Context, key string) (*proto.CustomerScores, error) {
	var out proto.CustomerScores
	if err := c.Call(ctx, proto.APICustomerShow, proto.CustomerShow{Key: key}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
