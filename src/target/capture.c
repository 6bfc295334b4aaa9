/*
 * Capture: pause, copy the writable mappings, resume.
 *
 * Everything that can happen before or after the pause does: buffers are
 * allocated and pre-faulted (MAP_POPULATE) before the threads stop, so the
 * pause is the copy itself; read-only file mappings are not copied at all
 * but fetched on demand later (their bytes cannot change).
 */
#include "heapscope/target.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "heapscope/error.h"

/* One process_vm_readv call copies at most this much, so a fault in one
 * mapping only loses the rest of that chunk. */
#define COPY_CHUNK (256u << 20)

struct buffer {
	uint64_t start;
	size_t len, map_len;
	void *data;
};

static void *alloc_buffer(size_t len, int populate)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | (populate ? MAP_POPULATE : 0),
		       -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Buffers for every capturable mapping, allocated before the pause. */
static int prepare_buffers(const struct hs_maps *maps, uint64_t max_bytes,
			   struct buffer **out, size_t *count)
{
	struct buffer *bufs = calloc(maps->count ? maps->count : 1, sizeof(*bufs));
	uint64_t total = 0;
	size_t n = 0;

	if (!bufs)
		return hs_error(HS_ENOMEM, "preparing capture buffers");
	for (size_t i = 0; i < maps->count; i++) {
		const struct hs_map *m = &maps->items[i];

		if (!hs_map_is_capturable(m))
			continue;
		total += m->end - m->start;
		if (max_bytes && total > max_bytes) {
			for (size_t j = 0; j < n; j++)
				munmap(bufs[j].data, bufs[j].map_len);
			free(bufs);
			return hs_error(HS_ENOMEM,
					"the target has more than %llu MiB of writable memory; "
					"raise --max-capture",
					(unsigned long long)(max_bytes >> 20));
		}
		bufs[n].start = m->start;
		bufs[n].len = bufs[n].map_len = m->end - m->start;
		bufs[n].data = alloc_buffer(bufs[n].len, 1);
		if (!bufs[n].data) {
			for (size_t j = 0; j < n; j++)
				munmap(bufs[j].data, bufs[j].map_len);
			free(bufs);
			return hs_error(HS_ENOMEM, "cannot allocate %zu bytes for the capture",
					m->end - m->start);
		}
		n++;
	}
	*out = bufs;
	*count = n;
	return 0;
}

/* Copy [start, start+len) of the target; returns bytes copied (a mapping
 * can end early, e.g. a file mapping past the end of its file). */
static size_t copy_range(int pid, uint64_t start, void *dst, size_t len, int *err)
{
	size_t done = 0;

	while (done < len) {
		size_t want = len - done > COPY_CHUNK ? COPY_CHUNK : len - done;
		struct iovec local = {(char *)dst + done, want};
		struct iovec remote = {(void *)(uintptr_t)(start + done), want};
		ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0 && (errno == ESRCH || errno == EPERM))
				*err = hs_error(hs_error_from_errno(errno),
						"cannot read memory of PID %d: %s", pid,
						strerror(errno));
			break;
		}
		done += (size_t)n;
	}
	return done;
}

/* The paused part: copy each capturable mapping into its buffer. */
static int copy_mappings(struct hs_capture *cap, struct buffer *bufs, size_t nbufs)
{
	int err = 0;

	for (size_t i = 0; i < cap->maps.count && !err; i++) {
		const struct hs_map *m = &cap->maps.items[i];
		size_t len = m->end - m->start, got;
		struct buffer *b = NULL;
		void *data;

		if (!hs_map_is_capturable(m))
			continue;
		for (size_t j = 0; j < nbufs; j++)
			if (bufs[j].data && bufs[j].start == m->start && bufs[j].len >= len)
				b = &bufs[j];
		/* a mapping that appeared since we looked gets a fresh buffer */
		data = b ? b->data : alloc_buffer(len, 0);
		if (!data)
			return hs_error(HS_ENOMEM, "cannot allocate %zu bytes", len);
		got = copy_range(cap->pid, m->start, data, len, &err);
		if (got < len)
			cap->regions_short++;
		cap->bytes_read += got;
		if (hs_image_add_mapped(cap->image, m->start, data, got,
					b ? b->map_len : len) < 0) {
			if (!b)
				munmap(data, len);
			return HS_ENOMEM;
		}
		if (b)
			b->data = NULL; /* now owned by the image */
	}
	return err;
}

static void free_buffers(struct buffer *bufs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (bufs[i].data)
			munmap(bufs[i].data, bufs[i].map_len);
	free(bufs);
}

/* Read-only file mappings may be fetched later, after the target runs. */
static int declare_lazy(struct hs_capture *cap)
{
	for (size_t i = 0; i < cap->maps.count; i++) {
		const struct hs_map *m = &cap->maps.items[i];
		int err;

		if ((m->prot & HS_MAP_READ) && !(m->prot & HS_MAP_WRITE) &&
		    m->path[0] == '/' &&
		    (err = hs_image_add_lazy(cap->image, m->start, m->end)) < 0)
			return err;
	}
	return 0;
}

static void block_stop_signals(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigprocmask(SIG_BLOCK, &set, old);
}

int hs_capture_process(int pid, const struct hs_capture_opts *opts,
		       struct hs_capture *out)
{
	struct hs_capture cap = {.pid = pid};
	struct hs_tracer tracer = {0};
	struct hs_maps before = {0};
	struct buffer *bufs = NULL;
	size_t nbufs = 0;
	double t0, t1;
	sigset_t oldmask;
	int err;

	if (!(cap.image = hs_image_new(pid)))
		return hs_error(HS_ENOMEM, "creating capture image");
	if ((err = hs_maps_read(pid, &before)) < 0 ||
	    (err = prepare_buffers(&before, opts->max_bytes, &bufs, &nbufs)) < 0)
		goto out;

	block_stop_signals(&oldmask);
	t0 = hs_now_ms();
	err = hs_tracer_stop_all(&tracer, pid, opts->stop_timeout_ms);
	if (!err) {
		/* the maps as they are now, not as they were before the pause */
		err = hs_maps_read(pid, &cap.maps);
		t1 = hs_now_ms();
		if (!err)
			err = copy_mappings(&cap, bufs, nbufs);
		cap.copy_ms = hs_now_ms() - t1;
		cap.os_threads = tracer.count;
		cap.signals_passed = tracer.signals_passed;
		hs_tracer_release(&tracer);
	}
	cap.paused_ms = hs_now_ms() - t0;
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	if (err)
		goto out;

	if ((err = declare_lazy(&cap)) < 0)
		goto out;
	hs_image_seal(cap.image);
	*out = cap;
	cap.image = NULL;
	cap.maps = (struct hs_maps){0};
out:
	free_buffers(bufs, nbufs);
	hs_maps_release(&before);
	hs_capture_release(&cap);
	return err;
}

struct hs_memsrc *hs_capture_memsrc(struct hs_capture *cap)
{
	return hs_image_memsrc(cap->image);
}

void hs_capture_release(struct hs_capture *cap)
{
	if (cap->image)
		hs_memsrc_free(hs_image_memsrc(cap->image));
	cap->image = NULL;
	hs_maps_release(&cap->maps);
}

int hs_capture_raw_copy(int pid, double *ms, uint64_t *bytes)
{
	struct hs_maps maps = {0};
	struct buffer *bufs = NULL;
	size_t nbufs = 0;
	int err = 0;
	double t0;

	if ((err = hs_maps_read(pid, &maps)) < 0 ||
	    (err = prepare_buffers(&maps, 0, &bufs, &nbufs)) < 0)
		goto out;
	*bytes = 0;
	t0 = hs_now_ms();
	for (size_t i = 0; i < nbufs && !err; i++)
		*bytes += copy_range(pid, bufs[i].start, bufs[i].data, bufs[i].len, &err);
	*ms = hs_now_ms() - t0;
out:
	free_buffers(bufs, nbufs);
	hs_maps_release(&maps);
	return err;
}
