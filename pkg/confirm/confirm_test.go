package confirm_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/confirm"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

var (
	began = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	self  = store.Delivery{EventID: "evt_self", CreatedAt: began, Status: lifecycle.StatusProcessing}
)

func app(id string, at time.Duration) personio.ReadApplication {
	return personio.ReadApplication{ID: id, JobID: "1001", CreatedAt: began.Add(at)}
}

// TestSettle: the three outcomes, and what makes an application another
// delivery's of ours.
func TestSettle(t *testing.T) {
	delivered := func(id string, position int64, appID string) store.Delivery {
		return store.Delivery{EventID: id, Status: lifecycle.StatusDelivered, JobPositionID: position, PersonioApplicationID: appID}
	}
	for _, tc := range []struct {
		name   string
		apps   []personio.ReadApplication
		others []store.Delivery
		status lifecycle.Status
		appID  string
		says   string
	}{
		{"created after the record: ours", []personio.ReadApplication{app("7", time.Second)}, nil, lifecycle.StatusDelivered, "7", "created for this delivery"},
		{"created before the record: an earlier one", []personio.ReadApplication{app("7", -time.Hour)}, nil, lifecycle.StatusFailed, "", "before this delivery began"},
		{"nothing visible", nil, nil, lifecycle.StatusUnconfirmed, "", "do not show it yet"},
		{"self among the others counts for nothing", []personio.ReadApplication{app("7", time.Second)},
			[]store.Delivery{{EventID: "evt_self", Status: lifecycle.StatusDelivered, JobPositionID: 1001}}, lifecycle.StatusDelivered, "7", "created for this delivery"},
		{"an earlier delivery of ours, delivered to the position", []personio.ReadApplication{app("7", time.Second)},
			[]store.Delivery{delivered("evt_first", 1001, "")}, lifecycle.StatusFailed, "", "earlier delivery of this system (event evt_first)"},
		{"an earlier delivery of ours names the application", []personio.ReadApplication{app("7", time.Second)},
			[]store.Delivery{delivered("evt_first", 1001, "7")}, lifecycle.StatusFailed, "", "event evt_first"},
		{"an earlier delivery of ours names another application", []personio.ReadApplication{app("8", time.Second)},
			[]store.Delivery{delivered("evt_first", 1001, "7")}, lifecycle.StatusDelivered, "8", "created for this delivery"},
		{"an earlier delivery of ours to another position", []personio.ReadApplication{app("7", time.Second)},
			[]store.Delivery{delivered("evt_first", 2002, "")}, lifecycle.StatusDelivered, "7", "created for this delivery"},
		{"an unconfirmed delivery of ours to the position", []personio.ReadApplication{app("7", time.Second)},
			[]store.Delivery{{EventID: "evt_other", Status: lifecycle.StatusUnconfirmed, JobPositionID: 1001}}, lifecycle.StatusUnconfirmed, "", "evt_other"},
		{"a delivered one whose position is not recorded", []personio.ReadApplication{app("7", time.Second)},
			[]store.Delivery{delivered("evt_old", 0, "")}, lifecycle.StatusUnconfirmed, "", "evt_old"},
		{"one owned by an earlier delivery of ours, and one of its own", []personio.ReadApplication{app("7", time.Second), app("8", 2*time.Second)},
			[]store.Delivery{delivered("evt_first", 1001, "7")}, lifecycle.StatusDelivered, "8", "created for this delivery"},
		{"a failed one of ours counts for nothing", []personio.ReadApplication{app("7", time.Second)},
			[]store.Delivery{{EventID: "evt_dup", Status: lifecycle.StatusFailed, JobPositionID: 1001}}, lifecycle.StatusDelivered, "7", "created for this delivery"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := confirm.Settle(self, 1001, tc.apps, tc.others)
			if v.Status != tc.status || v.ApplicationID != tc.appID || !strings.Contains(v.Reason, tc.says) {
				t.Errorf("got %s %q %q, want %s %q …%s…", v.Status, v.ApplicationID, v.Reason, tc.status, tc.appID, tc.says)
			}
			switch v.Status {
			case lifecycle.StatusFailed:
				if v.Code != lifecycle.ReasonDuplicate {
					t.Errorf("code %s", v.Code)
				}
			case lifecycle.StatusUnconfirmed:
				if v.Code != lifecycle.ReasonConfirmPending {
					t.Errorf("code %s", v.Code)
				}
			}
		})
	}
}

type reader struct {
	apps []personio.ReadApplication
	err  error
	q    personio.ApplicationQuery
}

func (r *reader) Applications(_ context.Context, _ personio.ReadCredentials, q personio.ApplicationQuery) ([]personio.ReadApplication, error) {
	r.q = q
	return r.apps, r.err
}

type deliveries struct {
	list  []store.Delivery
	err   error
	asked string
}

func (d *deliveries) DeliveriesOf(_ context.Context, _, hash string) ([]store.Delivery, error) {
	d.asked = hash
	return d.list, d.err
}

// TestCheck: the read asks for the address and the position, looks up our
// deliveries of the address's hash, and returns a failed read as an error.
func TestCheck(t *testing.T) {
	rd := &reader{apps: []personio.ReadApplication{app("7", time.Second)}}
	st := &deliveries{list: []store.Delivery{{EventID: "evt_first", Status: lifecycle.StatusDelivered, JobPositionID: 1001}}}
	v, err := confirm.Check(t.Context(), st, rd, personio.ReadCredentials{}, confirm.Query{Self: self, Email: "a@example.com", EmailHash: "h1", Position: 1001})
	if err != nil || v.Status != lifecycle.StatusFailed {
		t.Fatalf("%+v %v", v, err)
	}
	if rd.q.Email != "a@example.com" || rd.q.JobID != "1001" || st.asked != "h1" {
		t.Errorf("asked %+v and %q", rd.q, st.asked)
	}
	st.err = errors.New("table down")
	if _, err := confirm.Check(t.Context(), st, rd, personio.ReadCredentials{}, confirm.Query{Self: self, Email: "a@example.com", EmailHash: "h1", Position: 1001}); !errors.Is(err, confirm.ErrRecords) {
		t.Errorf("our records unreadable: %v, want ErrRecords", err)
	}
	rd.err = errors.New("429")
	if _, err := confirm.Check(t.Context(), st, rd, personio.ReadCredentials{}, confirm.Query{Self: self, Email: "a@example.com", EmailHash: "h1", Position: 1001}); err == nil || errors.Is(err, confirm.ErrRecords) || !strings.Contains(err.Error(), "confirm: check") {
		t.Errorf("a failed read: %v", err)
	}
}
