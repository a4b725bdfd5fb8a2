package storage

import (
	"context"
	"encoding/json"

	"github.com/casapay/casapay"
)

// PruneChunk is pruneChunk, for tests that count the transactions a prune takes.
const PruneChunk = pruneChunk

// WriteAnswer runs a write that changes nothing and answers v with status, through the write path every
// resource uses, for tests of what it stores under an idempotency key.
func (s *Store) WriteAnswer(ctx context.Context, scope casapay.Scope, req casapay.Request, status int, v any) (*casapay.Response, error) {
	return s.write(ctx, scope, req, func(context.Context, Executor) (*change, error) {
		body, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return &change{status: status, body: body}, nil
	})
}
