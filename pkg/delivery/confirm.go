package delivery

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// applicationReader reads a company's applications through Personio's v2
// API (read access).
type applicationReader interface {
	Applications(ctx context.Context, rc personio.ReadCredentials, q personio.ApplicationQuery) ([]personio.ReadApplication, error)
}

// readSecrets reads a connection's read-access client secret.
type readSecrets interface {
	ReadSecret(ctx context.Context, ws, connection string) (personio.Token, error)
}

// confirm settles an "already exists" that followed a lost answer (res,
// unconfirmed) by reading the applicant's applications for the position,
// when the connection has read access:
//   - one created after this delivery's record was written is ours:
//     delivered, with Personio's application id (Personio's clock and ours
//     are taken to agree closer than the time from a record to its first
//     request);
//   - one created before is an earlier application: failed as a duplicate;
//   - none visible yet, or a read that fails: tried again later (the
//     message's next receive sends again, hears "already exists" again and
//     reads again), and unconfirmed after the last try.
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
	reader, _ := j.w.personio.(applicationReader)
	apps, err := reader.Applications(ctx, rc, personio.ApplicationQuery{Email: email, JobID: strconv.FormatInt(j.position, 10)})
	if err != nil {
		j.log.WarnContext(ctx, "worker: read applications", "error", err.Error())
		return j.checkAgain(res, "reading Personio's applications to confirm it failed ("+err.Error()+")")
	}
	for _, a := range apps {
		if !a.CreatedAt.Before(j.record.CreatedAt) {
			return result{status: lifecycle.StatusDelivered, code: lifecycle.ReasonDelivered, conn: conn.ID, applicationID: a.ID,
				reason: "confirmed by reading Personio: application " + a.ID + " was created for this delivery"}
		}
	}
	if len(apps) > 0 {
		a := apps[0]
		return result{status: lifecycle.StatusFailed, code: lifecycle.ReasonDuplicate, conn: conn.ID,
			reason: fmt.Sprintf("Personio already had an application for this e-mail and position (application %s, created %s, before this delivery began): this one is a duplicate and was not sent again",
				a.ID, a.CreatedAt.UTC().Format(time.RFC3339))}
	}
	return j.checkAgain(res, "Personio's applications do not show it yet")
}

// checkAgain retries the confirmation on the message's next receive while
// tries are left; after the last one the delivery stays unconfirmed.
func (j *job) checkAgain(res result, why string) result {
	if j.attempt < j.w.cfg.MaxReceiveCount {
		r := j.retryable(lifecycle.ReasonExistsUnconfirmed, fmt.Errorf("%s; checked again later", why))
		r.conn = res.conn
		return r
	}
	res.reason += "; " + why
	return res
}

// readCredentials returns the connection's read access, if it has one and
// the worker can read with it.
func (j *job) readCredentials(ctx context.Context, conn store.Connection) (personio.ReadCredentials, bool) {
	if conn.ReadClientID == "" {
		return personio.ReadCredentials{}, false
	}
	secrets, ok := j.w.vault.(readSecrets)
	if _, reads := j.w.personio.(applicationReader); !ok || !reads {
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
