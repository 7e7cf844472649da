package worker

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/ingest"
	"github.com/phantomos/phantomos/internal/jobs"
	"github.com/phantomos/phantomos/internal/store"
)

// Bounds of a pull.
const (
	maxPullBody     = MaxFileBytes // the same bound as an uploaded file
	pullTimeout     = 2 * time.Minute
	maxPullURL      = 2048
	maxPullRedirect = 5
	maxPullKeys     = 200 // fields of a JSON record
)

// PullCredential is what a pull sends, sealed in the connector's
// credentials: a header (name and value) or basic auth.
type PullCredential struct {
	Header   string `json:"header,omitempty"`
	Value    string `json:"value,omitempty"`
	User     string `json:"user,omitempty"`
	Password string `json:"password,omitempty"`
}

// loopbackHost reports whether host (without port) is this machine.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckPullURL checks the address of a pull: https, or plain http to this
// machine only; no credentials in the address (they are sealed apart).
func CheckPullURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, phantomos.Errorf(phantomos.EINVALID, "Enter the URL of the file.")
	}
	if len(raw) > maxPullURL {
		return nil, phantomos.Errorf(phantomos.EINVALID, "The URL is longer than %d characters.", maxPullURL)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, phantomos.Errorf(phantomos.EINVALID, "%q is not a URL (such as https://erp.example.com/exports/sales.csv).", raw)
	}
	if u.User != nil {
		return nil, phantomos.Errorf(phantomos.EINVALID, "Put the user name and password in the credential fields, not in the URL.")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !loopbackHost(u.Hostname()) {
			return nil, phantomos.Errorf(phantomos.EINVALID, "The URL must be https: plain http would send the file and its credential unencrypted.")
		}
	default:
		return nil, phantomos.Errorf(phantomos.EINVALID, "The URL must start with https://.")
	}
	u.Fragment = ""
	return u, nil
}

// pullFailure is a pull that failed for a reason the user can act on
// (shown on the connector); retry says whether trying again soon may
// help (the server was down) or only a change of the URL or file will.
type pullFailure struct {
	msg   string
	retry bool
}

func (e *pullFailure) Error() string { return e.msg }

func pullFailed(retry bool, format string, args ...any) error {
	return &pullFailure{msg: fmt.Sprintf(format, args...), retry: retry}
}

// loadPullRoots returns the system's certificate authorities and those of
// the PEM file path (config.PullCAFile), or nil (the system's alone) when
// path is empty.
func loadPullRoots(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("PHANTOMOS_PULL_CA_FILE: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("PHANTOMOS_PULL_CA_FILE %s: no PEM certificate in it", path)
	}
	return pool, nil
}

// pullClient is the HTTP client of pulls to p: redirects are followed a
// few times, each to an address CheckPullURL accepts, and never to another
// host when a credential is sent. Certificates are checked against roots
// (nil: the system's).
func pullClient(p *store.PullSource, roots *x509.CertPool) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = time.Minute
	if roots != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	first, _ := url.Parse(p.URL)
	return &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxPullRedirect {
			return pullFailed(false, "The URL redirected more than %d times.", maxPullRedirect)
		}
		if _, err := CheckPullURL(req.URL.String()); err != nil {
			return pullFailed(false, "The URL redirected to %s, which is refused: %s", req.URL.Redacted(), phantomos.ErrorMessage(err))
		}
		if p.Auth != "none" && first != nil && !strings.EqualFold(req.URL.Host, first.Host) {
			return pullFailed(false, "The URL redirected to another host (%s); the credential is sent to %s only.", req.URL.Host, first.Host)
		}
		return nil
	}}
}

// describeFetchError says why a request did not get an answer.
func describeFetchError(err error) error {
	if f, ok := errors.AsType[*pullFailure](err); ok {
		return f
	}
	if e, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return pullFailed(false, "TLS: the server's certificate was refused (%v).", e.Err)
	}
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &unknown):
		return pullFailed(false, "TLS: the server's certificate was refused (%v).", unknown)
	case errors.As(err, &hostname):
		return pullFailed(false, "TLS: the server's certificate was refused (%v).", hostname)
	case errors.As(err, &invalid):
		return pullFailed(false, "TLS: the server's certificate was refused (%v).", invalid)
	}
	if _, ok := errors.AsType[tls.RecordHeaderError](err); ok {
		return pullFailed(false, "TLS: the server does not speak https at this address.")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return pullFailed(true, "The URL did not answer within %s.", pullTimeout)
	}
	if e, ok := errors.AsType[*net.OpError](err); ok {
		return pullFailed(true, "The URL could not be reached: %v.", e.Err)
	}
	return pullFailed(true, "The URL could not be reached: %v.", err)
}

// fetched is a pulled file kept in a temporary file.
type fetched struct {
	file      *os.File
	etag      string
	sum       string
	json      bool // by its Content-Type
	unchanged bool
}

func (f *fetched) close() {
	if f.file != nil {
		f.file.Close()
		os.Remove(f.file.Name())
	}
}

// fetchPull downloads p's file with credential cr into a temporary file,
// hashing it, with a conditional request when a file was imported before.
// A body over maxPullBody is refused, announced or not.
func fetchPull(ctx context.Context, p *store.PullSource, cr PullCredential, roots *x509.CertPool) (*fetched, error) {
	ctx, cancel := context.WithTimeout(ctx, pullTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL, nil)
	if err != nil {
		return nil, pullFailed(false, "The URL is not valid: %v.", err)
	}
	req.Header.Set("User-Agent", "PhantomOS-pull/1")
	req.Header.Set("Accept", "text/csv, application/json;q=0.9, */*;q=0.5")
	if p.ETag != "" && p.ContentSHA256 != "" {
		req.Header.Set("If-None-Match", p.ETag)
	}
	switch p.Auth {
	case "header":
		req.Header.Set(cr.Header, cr.Value)
	case "basic":
		req.SetBasicAuth(cr.User, cr.Password)
	}
	resp, err := pullClient(p, roots).Do(req)
	if err != nil {
		return nil, describeFetchError(err)
	}
	defer resp.Body.Close()
	etag := resp.Header.Get("ETag")
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return &fetched{etag: cmpOr(etag, p.ETag), unchanged: true}, nil
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, pullFailed(false, "The URL answered %d %s: check the credential.", resp.StatusCode, http.StatusText(resp.StatusCode))
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return nil, pullFailed(true, "The URL answered %d %s.", resp.StatusCode, http.StatusText(resp.StatusCode))
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, pullFailed(false, "The URL answered %d %s.", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	if resp.ContentLength > maxPullBody {
		return nil, pullFailed(false, "The file is too large: %d bytes, over the limit of %d MiB.", resp.ContentLength, maxPullBody>>20)
	}
	f, err := os.CreateTemp("", "phantomos-pull-*")
	if err != nil {
		return nil, err
	}
	out := &fetched{file: f, etag: etag}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(resp.Body, maxPullBody+1))
	if err != nil {
		out.close()
		if ctx.Err() != nil {
			return nil, pullFailed(true, "The file did not arrive within %s.", pullTimeout)
		}
		return nil, pullFailed(true, "The file could not be read to its end: %v.", err)
	}
	if n > maxPullBody {
		out.close()
		return nil, pullFailed(false, "The file is too large: over the limit of %d MiB.", maxPullBody>>20)
	}
	out.sum = hex.EncodeToString(h.Sum(nil))
	out.unchanged = out.sum == p.ContentSHA256
	ct := strings.ToLower(resp.Header.Get("Content-Type"))
	out.json = strings.Contains(ct, "json")
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		out.close()
		return nil, err
	}
	return out, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// isJSON decides the format of a pulled file: the source's setting, else
// its Content-Type, else its first character.
func isJSON(format string, f *fetched) (bool, error) {
	switch format {
	case "json":
		return true, nil
	case "csv":
		return false, nil
	}
	if f.json {
		return true, nil
	}
	br := bufio.NewReader(f.file)
	head, _ := br.Peek(512)
	head = bytes.TrimPrefix(head, []byte{0xEF, 0xBB, 0xBF})
	head = bytes.TrimLeft(head, " \t\r\n")
	_, err := f.file.Seek(0, io.SeekStart)
	return len(head) > 0 && head[0] == '[', err
}

// jsonToCSV writes the JSON array of flat objects in r as CSV to w: the
// header is every key in the order first seen (the columns of an upload:
// order_id, date, sku, quantity, gross…), and each object is a row. It
// reads r twice (keys, then rows), so r must seek.
func jsonToCSV(r io.ReadSeeker, w io.Writer) error {
	var keys []string
	index := map[string]int{}
	err := eachJSONRecord(r, func(i int, rec map[string]json.RawMessage) error {
		for k := range rec {
			if _, ok := index[k]; ok {
				continue
			}
			if len(index) >= maxPullKeys {
				return phantomos.Errorf(phantomos.EINVALID, "JSON record %d: more than %d different fields.", i+1, maxPullKeys)
			}
			index[k] = len(keys)
			keys = append(keys, k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return phantomos.Errorf(phantomos.EINVALID, "The JSON file has no records: send an array of objects, one per order line.")
	}
	// Objects are unordered: sort the keys each record first named, so
	// that the columns do not depend on map order.
	slices.Sort(keys)
	for i, k := range keys {
		index[k] = i
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(keys); err != nil {
		return err
	}
	row := make([]string, len(keys))
	err = eachJSONRecord(r, func(i int, rec map[string]json.RawMessage) error {
		clear(row)
		for k, v := range rec {
			s, err := jsonCell(v)
			if err != nil {
				return phantomos.Errorf(phantomos.EINVALID, "JSON record %d, field %q: %v.", i+1, k, err)
			}
			row[index[k]] = s
		}
		return cw.Write(row)
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// eachJSONRecord calls fn with each object of the JSON array in r.
func eachJSONRecord(r io.Reader, fn func(int, map[string]json.RawMessage) error) error {
	dec := json.NewDecoder(bufio.NewReader(r))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('[') {
		return phantomos.Errorf(phantomos.EINVALID, "The JSON file must be an array of objects, one per order line (or product).")
	}
	for i := 0; dec.More(); i++ {
		var rec map[string]json.RawMessage
		if err := dec.Decode(&rec); err != nil {
			return phantomos.Errorf(phantomos.EINVALID, "JSON record %d is not an object of fields: %v.", i+1, err)
		}
		if err := fn(i, rec); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return phantomos.Errorf(phantomos.EINVALID, "The JSON file is not valid: %v.", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return phantomos.Errorf(phantomos.EINVALID, "The JSON file has data after its array.")
	}
	return nil
}

// jsonCell is a JSON value as the text of a CSV cell.
func jsonCell(v json.RawMessage) (string, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" {
		return "", nil
	}
	switch v[0] {
	case '"':
		var s string
		err := json.Unmarshal(v, &s)
		return s, err
	case '{', '[':
		return "", errors.New("is an object or array; fields must be text, numbers or true/false")
	case 't', 'f':
		var b bool
		err := json.Unmarshal(v, &b)
		return strconv.FormatBool(b), err
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err != nil {
		return "", err
	}
	return n.String(), nil
}

// pullFileName is what the import run records as the file's name.
func pullFileName(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "pull"
	}
	name := path.Base(u.Path)
	if name == "." || name == "/" || name == "" {
		name = u.Host
	}
	return "pull: " + name
}

// pullConnector is the work of a sync job of a custom source that pulls:
// one pull, recorded as a sync run and on the source. A failure the user
// must act on (a refused credential, a bad file, a 404) ends the job and
// shows on the connector; one that may pass (the server was down) also
// shows there, and the job is retried.
func (w *Worker) pullConnector(ctx context.Context, pub phantomos.PublisherID, c *phantomos.Connector) error {
	p, err := w.store.PullSource(ctx, pub, c.ID)
	if err != nil {
		if phantomos.ErrorCode(err) == phantomos.ENOTFOUND {
			return phantomos.Errorf(phantomos.EINVALID, "This source receives pushes; it has nothing to pull.")
		}
		return err
	}
	run, err := w.store.StartSyncRun(ctx, pub, c.ID)
	if err != nil {
		return err
	}
	counts, rec, perr := w.pull(ctx, pub, p)
	if perr != nil {
		rec = store.PullRecord{Outcome: store.PullFailed, Error: phantomos.ErrorMessage(perr)}
		if f, ok := errors.AsType[*pullFailure](perr); ok {
			rec.Error = f.msg
		}
		if ctx.Err() != nil {
			rec.Error = "The pull was cancelled."
		}
	}
	wctx := context.WithoutCancel(ctx)
	if err := w.store.RecordPull(wctx, pub, c.ID, rec); err != nil {
		return err
	}
	state, msg := store.SyncSucceeded, ""
	if perr != nil {
		state, msg = store.SyncFailed, rec.Error
	}
	if err := w.store.FinishSyncRun(wctx, pub, run.ID, state, counts, msg); err != nil {
		return err
	}
	if perr == nil {
		return nil
	}
	if f, ok := errors.AsType[*pullFailure](perr); ok {
		if f.retry {
			return perr
		}
		return jobs.Permanent(perr)
	}
	return perr // ours (EINTERNAL) is retried; EINVALID ends the job
}

// pull fetches p's file and imports it unless it is unchanged.
func (w *Worker) pull(ctx context.Context, pub phantomos.PublisherID, p *store.PullSource) (store.SyncCounts, store.PullRecord, error) {
	var counts store.SyncCounts
	var cr PullCredential
	if p.Auth != "none" {
		if w.conn == nil {
			return counts, store.PullRecord{}, pullFailed(false, "Connectors are not enabled on this server (no PHANTOMOS_SECRET_KEY): the credential cannot be opened.")
		}
		if err := w.conn.vault.Load(ctx, connector.Target{Publisher: pub, ConnectorID: p.ConnectorID}, &cr); err != nil {
			return counts, store.PullRecord{}, pullFailed(false, "The credential of this source cannot be opened: enter it again (create the source anew).")
		}
	}
	f, err := fetchPull(ctx, p, cr, w.pullRoots)
	if err != nil {
		return counts, store.PullRecord{}, err
	}
	defer f.close()
	if f.unchanged {
		return counts, store.PullRecord{Outcome: store.PullUnchanged, ETag: f.etag}, nil
	}
	src := io.Reader(f.file)
	asJSON, err := isJSON(p.Format, f)
	if err != nil {
		return counts, store.PullRecord{}, err
	}
	if asJSON {
		tmp, err := os.CreateTemp("", "phantomos-pull-csv-*")
		if err != nil {
			return counts, store.PullRecord{}, err
		}
		defer func() { tmp.Close(); os.Remove(tmp.Name()) }()
		bw := bufio.NewWriter(tmp)
		if err := jsonToCSV(f.file, bw); err != nil {
			return counts, store.PullRecord{}, err
		}
		if err := bw.Flush(); err != nil {
			return counts, store.PullRecord{}, err
		}
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return counts, store.PullRecord{}, err
		}
		src = tmp
	}
	res, err := ingest.Import(ctx, w.store, pub, ingest.Kind(p.Kind), ingest.FormatAuto, src,
		ingest.Options{Source: p.ConnectorID, FileName: pullFileName(p.URL)})
	if res != nil {
		counts = store.SyncCounts{Seen: res.Seen, Inserted: res.Inserted, Updated: res.Updated, Skipped: res.Skipped, Failed: res.Failed}
	}
	if err != nil {
		if res != nil && phantomos.ErrorCode(err) == phantomos.EINVALID {
			return counts, store.PullRecord{}, pullFailed(false, "%s", importFailure(err, res, asJSON))
		}
		return counts, store.PullRecord{}, err
	}
	w.RetagAfterImport(ctx, pub, ingest.Kind(p.Kind), res)
	return counts, store.PullRecord{Outcome: store.PullImported, ETag: f.etag, ContentSHA256: f.sum}, nil
}

// importFailure says why a pulled file was refused, with its first bad
// rows.
func importFailure(err error, res *ingest.Result, asJSON bool) string {
	var b strings.Builder
	b.WriteString(phantomos.ErrorMessage(err))
	for i, e := range res.Errors {
		if i == 3 {
			fmt.Fprintf(&b, " … and %d more.", res.ErrorCount-3)
			break
		}
		where := fmt.Sprintf("line %d", e.Line)
		if asJSON {
			where = fmt.Sprintf("record %d", e.Line-1)
		}
		fmt.Fprintf(&b, " %s, %s %q: %s.", where, e.Column, e.Value, e.Reason)
	}
	return b.String()
}

// PullDue enqueues the pulls of pub that are due at now.
func (w *Worker) PullDue(ctx context.Context, pub phantomos.PublisherID, now time.Time) {
	if w.jobs == nil {
		return
	}
	list, err := w.store.PullSources(ctx, pub)
	if err != nil {
		w.logger.Warn("schedule: pull sources", "publisher", pub, "err", err)
		return
	}
	for _, p := range list {
		if !p.Due(now) {
			continue
		}
		if _, _, err := w.jobs.EnqueueSync(ctx, pub, p.ConnectorID); err != nil {
			w.logger.Warn("schedule: enqueue pull", "publisher", pub, "connector", p.ConnectorID, "err", err)
		}
	}
}
