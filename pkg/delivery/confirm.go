package delivery

import (
	"context"
	"errors"

	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/confirm"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// readSecrets reads a connection's read-access client secret.
type readSecrets interface {
	ReadSecret(ctx context.Context, ws, connection string) (personio.Token, error)
}

// confirm settles an "already exists" that followed a lost answer (res,
// unconfirmed) by reading the applicant's applications for the position,
// when the connection has read access (package confirm): this delivery's
// → delivered, with Personio's application id; an earlier one, or one an
// earlier delivery of ours owns → failed as a duplicate; not settled (not
// visible yet, another delivery of ours may own it) or a read that fails
// → unconfirmed, and the watch reads again later, a bounded number of
// times (settings.ConfirmChecks).
//
// Without read access res is returned as it is. Reads do not take from
// the company's budget: Personio's 20 requests a minute are those of its
// v1 applications and documents endpoints, and it documents no limit for
// the v2 reads.
func (j *job) confirm(ctx context.Context, conn store.Connection, email string, res result) result {
	rc, ok := j.readCredentials(ctx, conn)
	if !ok {
		return res
	}
	reader, _ := j.w.personio.(confirm.Reader)
	v, err := confirm.Check(ctx, j.w.store, reader, rc, confirm.Query{Self: j.record, Email: email,
		EmailHash: application.EmailHash(j.w.cfg.HashKey, email), Position: j.position})
	if errors.Is(err, confirm.ErrRecords) && j.attempt < j.w.cfg.MaxReceiveCount {
		// Our table, not Personio: the message comes back and asks again.
		r := j.retryable(lifecycle.ReasonInternal, err)
		r.conn = conn.ID
		return r
	}
	if err != nil {
		j.log.WarnContext(ctx, "worker: read applications", "error", err.Error())
		v = confirm.Verdict{Status: lifecycle.StatusUnconfirmed, Reason: "reading Personio's applications to confirm it failed (" + err.Error() + ")"}
	}
	if v.Status == lifecycle.StatusUnconfirmed {
		res.code = lifecycle.ReasonConfirmPending
		res.reason += "; " + v.Reason + "; it is read again later"
		return res
	}
	return result{status: v.Status, code: v.Code, reason: v.Reason, conn: conn.ID, applicationID: v.ApplicationID}
}

// readCredentials returns the connection's read access, if it has one and
// the worker can read with it.
func (j *job) readCredentials(ctx context.Context, conn store.Connection) (personio.ReadCredentials, bool) {
	if conn.ReadClientID == "" {
		return personio.ReadCredentials{}, false
	}
	secrets, ok := j.w.vault.(readSecrets)
	if _, reads := j.w.personio.(confirm.Reader); !ok || !reads {
		return personio.ReadCredentials{}, false
	}
	secret, err := secrets.ReadSecret(ctx, conn.WorkspaceID, conn.ID)
	if err != nil || secret == "" {
		if err != nil {
			j.log.WarnContext(ctx, "worker: read secret", "error", err.Error())
		}
		return personio.ReadCredentials{}, false
	}
	return personio.ReadCredentials{ClientID: conn.ReadClientID, ClientSecret: secret}, true
}
