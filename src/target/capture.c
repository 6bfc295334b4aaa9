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
#include <stdbool.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "heapscope/error.h"
#include "heapscope/log.h"

/* One process_vm_readv call copies at most this much, so a fault in one
 * mapping only loses the rest of that chunk. */
#define COPY_CHUNK (256u << 20)
#define PAGE 4096
#define MAX_HOLE (64u << 20) /* unreadable bytes skipped inside one mapping */

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

/*
 * Adjacent capturable mappings (e.g. a library's .data and the anonymous
 * .bss after it) are copied into one buffer: an object may straddle the
 * boundary, and the walker reads objects as contiguous bytes.
 * Returns the index of the last mapping of the run starting at i.
 */
static size_t run_end(const struct hs_maps *maps, size_t i)
{
	while (i + 1 < maps->count && hs_map_is_capturable(&maps->items[i + 1]) &&
	       maps->items[i + 1].start == maps->items[i].end)
		i++;
	return i;
}

static void unmap_buffers(struct buffer *bufs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (bufs[i].data)
			munmap(bufs[i].data, bufs[i].map_len);
}

/* Buffers for every run of capturable mappings, allocated before the pause. */
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
		size_t last;

		if (!hs_map_is_capturable(m))
			continue;
		last = run_end(maps, i);
		bufs[n].start = m->start;
		bufs[n].len = bufs[n].map_len = maps->items[last].end - m->start;
		total += bufs[n].len;
		i = last;
		if (max_bytes && total > max_bytes) {
			unmap_buffers(bufs, n);
			free(bufs);
			return hs_error(HS_ENOMEM,
					"the target has more than %llu MiB of writable memory; "
					"raise --max-capture",
					(unsigned long long)(max_bytes >> 20));
		}
		if (!(bufs[n].data = alloc_buffer(bufs[n].len, 1))) {
			size_t len = bufs[n].len;

			unmap_buffers(bufs, n);
			free(bufs);
			return hs_error(HS_ENOMEM, "cannot allocate %zu bytes for the capture", len);
		}
		n++;
	}
	*out = bufs;
	*count = n;
	return 0;
}

/* Copy [start, start+len) of the target; returns bytes copied (a mapping
 * can end early, e.g. a file mapping past the end of its file). */
/* Whether one page of the target can be read. */
static bool page_readable(int pid, uint64_t addr, void *scratch)
{
	struct iovec local = {scratch, PAGE};
	struct iovec remote = {(void *)(uintptr_t)addr, PAGE};
	ssize_t n;

	do
		n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	while (n < 0 && errno == EINTR);
	return n == PAGE;
}

/*
 * Copy [start, start+len) into dst.  Pages that cannot be read inside an
 * otherwise readable mapping — guard regions that glibc installs at the
 * bottom of thread stacks with MADV_GUARD_INSTALL (Linux 6.13+) — are left
 * zero and counted in *holes; the copy goes on after them, so the stack
 * above the guard is captured.  Returns the bytes covered; less than len
 * when the rest cannot be read at all (or the process went away: *err).
 */
static size_t copy_range(int pid, uint64_t start, void *dst, size_t len, int *err,
			 unsigned *holes)
{
	size_t done = 0;

	while (done < len) {
		size_t want = len - done > COPY_CHUNK ? COPY_CHUNK : len - done;
		struct iovec local = {(char *)dst + done, want};
		struct iovec remote = {(void *)(uintptr_t)(start + done), want};
		ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
		size_t skip = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == ESRCH || errno == EPERM)) {
			*err = hs_error(hs_error_from_errno(errno), "cannot read memory of PID %d: %s",
					pid, strerror(errno));
			break;
		}
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		/* unreadable page at start+done (done is page-aligned: reads
		 * stop at page boundaries): find where reading resumes */
		while (done + skip < len && skip < MAX_HOLE &&
		       !page_readable(pid, start + done + skip, (char *)dst + done + skip))
			skip += PAGE;
		if (done + skip >= len || skip >= MAX_HOLE)
			break;
		memset((char *)dst + done, 0, skip);
		*holes += (unsigned)(skip / PAGE);
		done += skip;
	}
	return done;
}

/* A prepared buffer for [start, start+len), or NULL. */
static struct buffer *take_buffer(struct buffer *bufs, size_t nbufs, uint64_t start,
				  size_t len)
{
	for (size_t j = 0; j < nbufs; j++)
		if (bufs[j].data && bufs[j].start == start && bufs[j].len >= len)
			return &bufs[j];
	return NULL;
}

/*
 * The paused part: copy each run of mappings into its buffer.  A mapping
 * that reads short ends its run there; the mappings after it start a new
 * run (with a buffer allocated now: this is rare).
 */
static int copy_mappings(struct hs_capture *cap, struct buffer *bufs, size_t nbufs)
{
	const struct hs_maps *maps = &cap->maps;
	int err = 0;

	for (size_t i = 0; i < maps->count && !err; i++) {
		size_t last, len, got = 0, map_len;
		struct buffer *b;
		unsigned char *data;

		if (!hs_map_is_capturable(&maps->items[i]))
			continue;
		last = run_end(maps, i);
		len = maps->items[last].end - maps->items[i].start;
		b = take_buffer(bufs, nbufs, maps->items[i].start, len);
		data = b ? b->data : alloc_buffer(len, 0);
		map_len = b ? b->map_len : len;
		if (!data)
			return hs_error(HS_ENOMEM, "cannot allocate %zu bytes", len);
		if (b)
			b->data = NULL; /* the image owns it from here */
		for (size_t k = i; k <= last && !err; k++) {
			const struct hs_map *m = &maps->items[k];
			size_t want = m->end - m->start;
			size_t n = copy_range(cap->pid, m->start, data + got, want, &err,
					      &cap->guard_pages);

			got += n;
			if (n < want) {
				hs_debug("short read: %zu of %zu bytes of %llx-%llx %s", n, want,
					 (unsigned long long)m->start, (unsigned long long)m->end,
					 m->path);
				cap->regions_short++;
				last = k;
			}
		}
		cap->bytes_read += got;
		if (!got) {
			munmap(data, map_len);
		} else if (hs_image_add_mapped(cap->image, maps->items[i].start, data, got,
					       map_len) < 0) {
			munmap(data, map_len);
			return HS_ENOMEM;
		}
		i = last;
	}
	return err;
}

static void free_buffers(struct buffer *bufs, size_t n)
{
	unmap_buffers(bufs, n);
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
	unsigned holes = 0;
	int err = 0;
	double t0;

	if ((err = hs_maps_read(pid, &maps)) < 0 ||
	    (err = prepare_buffers(&maps, 0, &bufs, &nbufs)) < 0)
		goto out;
	*bytes = 0;
	t0 = hs_now_ms();
	for (size_t i = 0; i < nbufs && !err; i++)
		*bytes += copy_range(pid, bufs[i].start, bufs[i].data, bufs[i].len, &err, &holes);
	*ms = hs_now_ms() - t0;
out:
	free_buffers(bufs, nbufs);
	hs_maps_release(&maps);
	return err;
}
