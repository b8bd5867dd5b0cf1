package analytics

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/onemap-city/onemap/geo"
)

// Jobs runs long analyses in the background: a request asks for a job
// (async=true), gets its id at once, polls its progress and result, and
// may cancel it. Finished jobs are kept for a while, then forgotten.
type Jobs struct {
	mu   sync.Mutex
	jobs map[string]*Job
	// Keep is how long a finished job stays readable; 0: 15 minutes.
	Keep time.Duration
}

// Job is one background analysis.
type Job struct {
	ID       string     `json:"job"`
	Kind     string     `json:"kind"`
	Status   string     `json:"status"` // running, done, failed, cancelled
	Stage    string     `json:"stage,omitempty"`
	Progress float64    `json:"progress"` // 0..1
	Started  time.Time  `json:"started"`
	Finished *time.Time `json:"finished,omitempty"`
	Result   any        `json:"result,omitempty"`
	Error    *JobError  `json:"error,omitempty"`

	cancel context.CancelFunc
}

// JobError is a failed job's error as the API reports errors.
type JobError struct {
	Error  string `json:"error"`
	Detail string `json:"detail"`
}

type progressKey struct{}

// progressFunc receives a stage name and the fraction done.
type progressFunc func(stage string, frac float64)

// progress reports how far the analysis running under ctx has got, if it
// runs as a job.
func progress(ctx context.Context, stage string, frac float64) {
	if f, ok := ctx.Value(progressKey{}).(progressFunc); ok {
		f(stage, frac)
	}
}

// Start runs f in the background as a job of kind and returns it. The job
// outlives the request that started it; Cancel stops it.
func (js *Jobs) Start(kind string, f func(ctx context.Context) (any, error)) *Job {
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	ctx, cancel := context.WithCancel(context.Background())
	j := &Job{ID: hex.EncodeToString(id), Kind: kind, Status: "running", Started: time.Now().UTC(), cancel: cancel}
	ctx = context.WithValue(ctx, progressKey{}, progressFunc(func(stage string, frac float64) {
		js.mu.Lock()
		defer js.mu.Unlock()
		j.Stage, j.Progress = stage, max(j.Progress, min(frac, 0.99))
	}))
	js.mu.Lock()
	if js.jobs == nil {
		js.jobs = map[string]*Job{}
	}
	js.gc()
	js.jobs[j.ID] = j
	js.mu.Unlock()
	go func() {
		res, err := f(ctx)
		js.mu.Lock()
		defer js.mu.Unlock()
		now := time.Now().UTC()
		j.Finished = &now
		switch {
		case j.Status == "cancelled":
		case err != nil && ctx.Err() != nil:
			j.Status = "cancelled"
		case err != nil:
			j.Status = "failed"
			j.Error = publicError(err)
		default:
			j.Status, j.Progress, j.Result = "done", 1, res
		}
		cancel()
	}()
	return j
}

// publicError is what a failed job may tell its client, as the API's
// error handler would: a client error's message and where; for others a
// generic sentence (the cause is the server's to log).
func publicError(err error) *JobError {
	var ge *geo.Error
	if errors.As(err, &ge) {
		switch ge.Code {
		case geo.EInvalid, geo.ENotFound, geo.EConflict, geo.EUnavailable, geo.ETimeout:
			return &JobError{Error: ge.Message, Detail: ge.Detail}
		}
	}
	return &JobError{Error: "internal error"}
}

// Get returns a snapshot of job id.
func (js *Jobs) Get(id string) (Job, error) {
	js.mu.Lock()
	defer js.mu.Unlock()
	j, ok := js.jobs[id]
	if !ok {
		return Job{}, geo.Errorf(geo.ENotFound, "no job %q (finished jobs are kept for %s)", id, js.keep())
	}
	return *j, nil
}

// Cancel stops job id; a finished job stays as it was.
func (js *Jobs) Cancel(id string) (Job, error) {
	js.mu.Lock()
	defer js.mu.Unlock()
	j, ok := js.jobs[id]
	if !ok {
		return Job{}, geo.Errorf(geo.ENotFound, "no job %q", id)
	}
	if j.Status == "running" {
		j.Status = "cancelled"
		j.cancel()
	}
	return *j, nil
}

func (js *Jobs) keep() time.Duration {
	if js.Keep > 0 {
		return js.Keep
	}
	return 15 * time.Minute
}

// gc forgets jobs finished more than keep ago; js.mu is held.
func (js *Jobs) gc() {
	for id, j := range js.jobs {
		if j.Finished != nil && time.Since(*j.Finished) > js.keep() {
			delete(js.jobs, id)
		}
	}
}
