package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/localstack"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
)

func runToken(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ws := fs.String("workspace", "ws_demo", "workspace_id claim")
	plan := fs.String("plan", "advanced", "plan claim")
	ttl := fs.Duration("ttl", 24*time.Hour, "lifetime")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	t, err := localstack.NewDevAuth([]byte(envOr("LOCAL_JWT_KEY", localstack.DevJWTKey))).Mint(*ws, *plan, *ttl)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintln(stdout, t)
	return 0
}

func runSend(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	api := fs.String("api", envOr("LOCAL_API", "http://127.0.0.1:8080"), "the local stack")
	secret := fs.String("secret", envOr("WEBHOOK_SECRET", localstack.DevWebhookSecret), "signing secret")
	newID := fs.Bool("new-id", false, "give the event a fresh id (and the contact a fresh e-mail), to send a file more than once")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: local send [-new-id] FILE")
		return 2
	}
	body, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *newID {
		var ev map[string]any
		if err := json.Unmarshal(body, &ev); err != nil {
			fmt.Fprintf(stderr, "send: %v\n", err)
			return 1
		}
		var b [6]byte
		_, _ = rand.Read(b[:])
		suffix := hex.EncodeToString(b[:])
		ev["id"] = "evt_" + suffix
		ev["occurred_at"] = time.Now().UTC().Format(time.RFC3339)
		if c, ok := ev["contact"].(map[string]any); ok {
			if e, ok := c["email"].(string); ok {
				if at := strings.LastIndexByte(e, '@'); at > 0 {
					c["email"] = e[:at] + "+" + suffix + e[at:]
				}
			}
		}
		body, _ = json.Marshal(ev)
	}
	status, out, err := localstack.PostEvent(ctx, *api, *secret, "msg_"+hex.EncodeToString(body[:min(8, len(body))]), body)
	if err != nil {
		fmt.Fprintf(stderr, "send: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%d %s\n", status, strings.TrimSpace(string(out)))
	if status >= 300 {
		return 1
	}
	return 0
}

func runDeliveries(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("deliveries", flag.ContinueOnError)
	fs.SetOutput(stderr)
	api := fs.String("api", envOr("LOCAL_API", "http://127.0.0.1:8080"), "the local stack")
	funnel := fs.String("funnel", "fn_office", "funnel id")
	status := fs.String("status", "", "only this status: "+statusList())
	ws := fs.String("workspace", "ws_demo", "workspace")
	limit := fs.Int("limit", 50, "the newest this many (1 to 100)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	token, _ := localstack.NewDevAuth([]byte(envOr("LOCAL_JWT_KEY", localstack.DevJWTKey))).Mint(*ws, "advanced", time.Hour)
	q := url.Values{"limit": {strconv.Itoa(*limit)}}
	if *status != "" {
		q.Set("status", *status)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, *api+"/v1/funnels/"+url.PathEscape(*funnel)+"/deliveries?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "deliveries: the local stack does not answer on %s (start it with make run): %v\n", *api, err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "deliveries: %s\n", problemInWords(resp.StatusCode, body))
		return 1
	}
	var page deliveryPage
	if err := json.Unmarshal(body, &page); err != nil {
		fmt.Fprintf(stderr, "deliveries: the answer is not a delivery list: %v\n", err)
		return 1
	}
	writeDeliveries(stdout, page, *limit)
	return 0
}

// deliveryPage is the part of the editor API's delivery list the table
// shows (pkg/editor/openapi.yaml, DeliveryList).
type deliveryPage struct {
	Deliveries []struct {
		ID         string    `json:"id"`
		Status     string    `json:"status"`
		ReasonCode string    `json:"reason_code"`
		UpdatedAt  time.Time `json:"updated_at"`
		Attempts   []struct {
			Outcome    string `json:"outcome"`
			ReasonCode string `json:"reason_code"`
		} `json:"attempts"`
	} `json:"deliveries"`
	NextCursor string `json:"next_cursor"`
}

// writeDeliveries prints the delivery log as a table. TRIES counts the
// worker's tries to deliver: an entry with an outcome, or a 429 from
// Personio (recorded as queued again); being queued, sent again on
// request or waiting for the rate budget is no try.
func writeDeliveries(w io.Writer, page deliveryPage, limit int) {
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tTRIES\tUPDATED\tREASON")
	for _, d := range page.Deliveries {
		tries := 0
		for _, a := range d.Attempts {
			if a.Outcome != string(lifecycle.StatusQueued) || a.ReasonCode == string(lifecycle.ReasonRateLimited) {
				tries++
			}
		}
		reason := d.ReasonCode
		if reason == "" {
			reason = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", d.ID, d.Status, tries, d.UpdatedAt.Local().Format(time.TimeOnly), reason)
	}
	_ = tw.Flush()
	if len(page.Deliveries) == 0 {
		fmt.Fprintln(w, "(no deliveries)")
	}
	if page.NextCursor != "" {
		fmt.Fprintf(w, "(the newest %d; more with a larger -limit, or in the API with ?cursor=…)\n", limit)
	}
}

// problemInWords says what an error answer of the editor API says: its
// status, title, detail and each listed problem (problem+json), or the
// body as it is.
func problemInWords(status int, body []byte) string {
	var p struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
		Errors []struct {
			Path    string `json:"path"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &p) != nil || p.Title == "" {
		return fmt.Sprintf("the API answered %d %s", status, strings.TrimSpace(string(body)))
	}
	out := fmt.Sprintf("the API answered %d %s", status, p.Title)
	if p.Detail != "" {
		out += ": " + p.Detail
	}
	for _, e := range p.Errors {
		if !strings.Contains(p.Detail, e.Message) {
			out += "\n  " + e.Path + ": " + e.Message
		}
	}
	return out
}

// statusList names the delivery statuses, for -status.
func statusList() string {
	names := make([]string, 0, len(lifecycle.Statuses))
	for _, s := range lifecycle.Statuses {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}
