package operator

import (
	"context"
	"errors"
	"fmt"

	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// EraseWithKey erases an applicant from a workspace under a hash key that
// is not the deployment's: the one a rotation of the e-mail hash key
// retired (docs/operations.md). The delivery records written under that
// key that hold the address are deleted, with the events they kept, and a
// marker of that key's hash is left (the editor's erasure, under the
// current key, does the rest). The address is used for the hash only and
// written nowhere; the audit line names the workspace and the counts.
func (o *Operator) EraseWithKey(ctx context.Context, ws, email string, key []byte) (store.Erasure, error) {
	const op = "operator: erase with a retired key"
	switch {
	case ws == "":
		return store.Erasure{}, failure.New(op, failure.Invalid, errors.New("a workspace is required"))
	case len(key) == 0:
		return store.Erasure{}, failure.New(op, failure.Invalid, errors.New("the retired hash key is empty"))
	case o.cfg.ErasureMarkerTTL <= 0:
		return store.Erasure{}, failure.New(op, failure.Invalid, errors.New("no erasure marker lifetime configured"))
	}
	hash := application.EmailHash(key, email)
	if hash == "" {
		return store.Erasure{}, failure.New(op, failure.Invalid, errors.New("the address is blank"))
	}
	until := o.cfg.Now().Add(o.cfg.ErasureMarkerTTL).UTC()
	e, err := o.store.EraseApplicant(ctx, ws, hash, until)
	if err != nil {
		return e, fmt.Errorf("%s: %w", op, err)
	}
	o.audit(ctx, "erase with a retired hash key", "workspace", ws, "removed", e.Records, "queued_copies", e.QueuedCopies, "refused_until", until)
	return e, nil
}
