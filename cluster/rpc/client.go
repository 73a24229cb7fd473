package rpc

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-storage/cairn/chunks"
)

// ErrUnavailable is returned (wrapped) when a node can't be reached or
// fails for a reason other than the chunk's state.
var ErrUnavailable = errors.New("node unavailable")

// Client calls nodes' chunk RPC. Nodes are named by their node name
// (verified against their certificate) and resolved to an address by the
// resolve function, so a node that moves is found at its new address; a
// name that does not resolve is dialed as a host:port. A Client is safe
// for concurrent use and keeps one HTTP/2 connection per node.
type Client struct {
	hc *http.Client
	tr *http.Transport
	// Observe, if set before the first call, is told the duration and
	// outcome of every call, by method ("put", "get", ...).
	Observe func(method string, d time.Duration, err error)
}

// NewClient returns a client that authenticates with tlsCfg (see
// pki.Bundle.ClientTLS).
func NewClient(tlsCfg *tls.Config, resolve func(name string) (addr string, ok bool)) *Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 15 * time.Second}
	tr := &http.Transport{
		TLSClientConfig:     tlsCfg.Clone(),
		ForceAttemptHTTP2:   true,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
		HTTP2: &http.HTTP2Config{
			SendPingTimeout: 5 * time.Second,
			PingTimeout:     5 * time.Second,
		},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if host, _, err := net.SplitHostPort(addr); err == nil && resolve != nil {
				if a, ok := resolve(host); ok {
					addr = a
				}
			}
			return dialer.DialContext(ctx, network, addr)
		},
	}
	return &Client{hc: &http.Client{Transport: tr}, tr: tr}
}

// Close drops idle connections.
func (c *Client) Close() { c.tr.CloseIdleConnections() }

// url returns the URL of path on node: by name, or by address when node
// contains a port.
func url(node, path string) string { return "https://" + node + path }

// do sends one request and maps failures to errors; on success the
// caller must close the body.
func (c *Client) do(ctx context.Context, method, node, path string, body []byte) (resp *http.Response, err error) {
	if c.Observe != nil {
		start := time.Now()
		defer func() { c.Observe(opName(method, path), time.Since(start), err) }()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url(node, path), rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = int64(len(body))
	}
	resp, err = c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w: %v", node, ErrUnavailable, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return nil, statusErr(node, resp, bytes.TrimSpace(msg))
}

// opName names a call for metrics.
func opName(method, path string) string {
	if !strings.HasPrefix(path, "/v1/chunks/") {
		return strings.TrimPrefix(path, "/v1/")
	}
	switch method {
	case http.MethodPut:
		return "put"
	case http.MethodGet:
		return "get"
	case http.MethodHead:
		return "stat"
	case http.MethodDelete:
		return "delete"
	}
	return method
}

// statusErr maps a failed response to an error wrapping the right
// sentinel.
func statusErr(node string, resp *http.Response, msg []byte) error {
	var sentinel error
	switch resp.Header.Get(hdrError) {
	case "not-found":
		sentinel = chunks.ErrNotFound
	case "corrupt":
		sentinel = chunks.ErrCorrupt
	case "id-mismatch":
		sentinel = chunks.ErrIDMismatch
	case "too-large":
		sentinel = chunks.ErrTooLarge
	default:
		if resp.StatusCode == http.StatusNotFound && resp.Request.Method == http.MethodHead {
			sentinel = chunks.ErrNotFound // HEAD replies carry no body, but headers do
		} else {
			return fmt.Errorf("node %s: %w: %s: %s", node, ErrUnavailable, resp.Status, msg)
		}
	}
	if len(msg) == 0 {
		return fmt.Errorf("node %s: %w", node, sentinel)
	}
	return fmt.Errorf("node %s: %w (%s)", node, sentinel, msg)
}

func chunkPath(id chunks.ID) string { return "/v1/chunks/" + id.String() }

// Get reads chunk id from node and verifies its hash: corrupt data from
// the network is reported as ErrCorrupt, never returned.
func (c *Client) Get(ctx context.Context, node string, id chunks.ID) ([]byte, error) {
	resp, err := c.do(ctx, http.MethodGet, node, chunkPath(id), nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.ContentLength > chunks.MaxSize {
		return nil, fmt.Errorf("node %s: chunk %s: %w: %d bytes", node, id, chunks.ErrCorrupt, resp.ContentLength)
	}
	data, err := readAllInto(make([]byte, 0, max(resp.ContentLength, 0)), io.LimitReader(resp.Body, chunks.MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("node %s: chunk %s: %w: %v", node, id, ErrUnavailable, err)
	}
	if sum := chunks.Sum(data); sum != id {
		return nil, fmt.Errorf("node %s: chunk %s: %w: data hashes to %s", node, id, chunks.ErrCorrupt, sum)
	}
	return data, nil
}

// Put stores data as chunk id on node. The node verifies the hash; the
// chunk is durable there after a following Sync of that node.
func (c *Client) Put(ctx context.Context, node string, id chunks.ID, data []byte, compress bool) error {
	path := chunkPath(id)
	if compress {
		path += "?compress=1"
	}
	resp, err := c.do(ctx, http.MethodPut, node, path, data)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// Stat returns the Info of chunk id on node.
func (c *Client) Stat(ctx context.Context, node string, id chunks.ID) (chunks.Info, error) {
	resp, err := c.do(ctx, http.MethodHead, node, chunkPath(id), nil)
	if err != nil {
		return chunks.Info{}, err
	}
	resp.Body.Close()
	info := chunks.Info{ID: id}
	var errs [3]error
	info.Size, errs[0] = strconv.ParseInt(resp.Header.Get(hdrSize), 10, 64)
	info.Stored, errs[1] = strconv.ParseInt(resp.Header.Get(hdrStored), 10, 64)
	var ns int64
	ns, errs[2] = strconv.ParseInt(resp.Header.Get(hdrMtime), 10, 64)
	info.ModTime = time.Unix(0, ns)
	if err := errors.Join(errs[:]...); err != nil {
		return chunks.Info{}, fmt.Errorf("node %s: stat %s: bad reply: %w", node, id, err)
	}
	return info, nil
}

// Delete removes chunk id from node.
func (c *Client) Delete(ctx context.Context, node string, id chunks.ID) error {
	resp, err := c.do(ctx, http.MethodDelete, node, chunkPath(id), nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// Has reports which of ids node holds, in one round trip per 65536 IDs.
func (c *Client) Has(ctx context.Context, node string, ids []chunks.ID) ([]bool, error) {
	out := make([]bool, 0, len(ids))
	for len(ids) > 0 {
		batch := ids[:min(len(ids), maxHas)]
		ids = ids[len(batch):]
		body := make([]byte, 0, len(batch)*chunks.IDSize)
		for _, id := range batch {
			body = append(body, id[:]...)
		}
		resp, err := c.do(ctx, http.MethodPost, node, "/v1/has", body)
		if err != nil {
			return nil, err
		}
		reply, err := io.ReadAll(io.LimitReader(resp.Body, int64(len(batch))+1))
		resp.Body.Close()
		if err != nil || len(reply) != len(batch) {
			return nil, fmt.Errorf("node %s: has: %w: bad reply (%d bytes, %v)", node, ErrUnavailable, len(reply), err)
		}
		for _, b := range reply {
			out = append(out, b == 1)
		}
	}
	return out, nil
}

// Sync makes every chunk written to node before the call durable there.
func (c *Client) Sync(ctx context.Context, node string) error {
	resp, err := c.do(ctx, http.MethodPost, node, "/v1/sync", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// Walk calls fn for every chunk node holds. An error from fn stops the
// walk and is returned as is.
func (c *Client) Walk(ctx context.Context, node string, fn func(chunks.Info) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // abandons the stream when fn stops the walk
	resp, err := c.do(ctx, http.MethodGet, node, "/v1/walk", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var fnErr error
	err = readWalk(resp.Body, func(info chunks.Info) error {
		fnErr = fn(info)
		return fnErr
	})
	if err != nil && fnErr == nil {
		return fmt.Errorf("node %s: %w", node, err)
	}
	return err
}

// Stats returns node's local store counters.
func (c *Client) Stats(ctx context.Context, node string) (chunks.Stats, error) {
	var st chunks.Stats
	err := c.CallJSON(ctx, http.MethodGet, node, "/v1/stats", nil, &st)
	return st, err
}

// CallJSON sends in (if not nil) as JSON to path on node and decodes the
// reply into out (if not nil). Admin routes use it.
func (c *Client) CallJSON(ctx context.Context, method, node, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	resp, err := c.do(ctx, method, node, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("node %s: %s: bad reply: %w", node, path, err)
	}
	return nil
}
