package dashboard

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// keepJobs is how many finished jobs the dashboard remembers.
const keepJobs = 100

// job is a long operation started from the dashboard (gc, fsck, restore,
// push): it runs on after the request that started it, and its page shows
// its progress live.
type job struct {
	ID       int
	Kind     string
	Title    string
	Started  time.Time
	Finished time.Time
	Phase    string
	Done     int64
	Total    int64
	Result   []string // lines of the outcome
	Link     string   // where the outcome is, if anywhere
	Err      string
}

// Running tells whether the job has not finished.
func (j job) Running() bool { return j.Finished.IsZero() }

// Percent is the progress of the current phase, -1 when unknown.
func (j job) Percent() float64 {
	if j.Total <= 0 {
		return -1
	}
	return min(100, float64(j.Done)*100/float64(j.Total))
}

// Elapsed is how long the job ran, or has been running.
func (j job) Elapsed() time.Duration {
	if j.Running() {
		return time.Since(j.Started).Round(time.Second)
	}
	return j.Finished.Sub(j.Started).Round(time.Millisecond)
}

// jobs are the dashboard's jobs, by id.
type jobs struct {
	mu   sync.Mutex
	next int
	all  []*job // oldest first
}

func newJobs() *jobs { return &jobs{} }

// jobRun does the work, reporting progress; it returns the outcome.
type jobRun func(ctx context.Context, progress func(phase string, done, total int64)) (result []string, link string, err error)

// jobTimeout bounds a job: longer than any gc or fsck we expect, short
// enough that a wedged call does not live forever.
const jobTimeout = 24 * time.Hour

// start runs fn in the background as a new job and returns its id.
func (js *jobs) start(kind, title string, fn jobRun) int {
	js.mu.Lock()
	js.next++
	j := &job{ID: js.next, Kind: kind, Title: title, Started: time.Now(), Phase: "starting"}
	js.all = append(js.all, j)
	if len(js.all) > keepJobs {
		js.all = js.all[len(js.all)-keepJobs:]
	}
	js.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), jobTimeout)
		defer cancel()
		result, link, err := fn(ctx, func(phase string, done, total int64) {
			js.mu.Lock()
			j.Phase, j.Done, j.Total = phase, done, total
			js.mu.Unlock()
		})
		js.mu.Lock()
		defer js.mu.Unlock()
		j.Finished, j.Result, j.Link = time.Now(), result, link
		if err != nil {
			j.Err = apiMessage(err)
		}
	}()
	return j.ID
}

// get returns a copy of job id.
func (js *jobs) get(id int) (job, bool) {
	js.mu.Lock()
	defer js.mu.Unlock()
	for _, j := range js.all {
		if j.ID == id {
			return *j, true
		}
	}
	return job{}, false
}

// list returns copies of the jobs, newest first.
func (js *jobs) list() []job {
	js.mu.Lock()
	defer js.mu.Unlock()
	out := make([]job, 0, len(js.all))
	for i := len(js.all) - 1; i >= 0; i-- {
		out = append(out, *js.all[i])
	}
	return out
}

// jobOf returns the job named in the path, or writes a 404.
func (s *Server) jobOf(w http.ResponseWriter, r *http.Request, sess *session) (job, bool) {
	id, err := strconv.Atoi(r.PathValue("id"))
	j, ok := s.jobs.get(id)
	if err != nil || !ok {
		s.renderStatus(w, r, sess, http.StatusNotFound, "error", "No such job",
			map[string]any{"Error": "There is no job " + r.PathValue("id") + " (jobs are kept in memory until the daemon restarts)."})
		return job{}, false
	}
	return j, true
}

// jobPage shows a job; its progress part refreshes itself.
func (s *Server) jobPage(w http.ResponseWriter, r *http.Request, sess *session) {
	if j, ok := s.jobOf(w, r, sess); ok {
		s.render(w, r, sess, "job", j.Title, j)
	}
}

// jobFragment is the live part of a job's page.
func (s *Server) jobFragment(w http.ResponseWriter, r *http.Request, sess *session) {
	if j, ok := s.jobOf(w, r, sess); ok {
		s.fragment(w, r, sess, "job", "progress", j)
	}
}
