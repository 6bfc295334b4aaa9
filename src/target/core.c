/*
 * Opening a core file: validate the ELF headers, read the notes, and join
 * the PT_LOAD segments with the NT_FILE entries into the process's maps
 * and the pieces of its memory.
 */
#include "heapscope/core.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core-internal.h"
#include "heapscope/error.h"

struct load {
	uint64_t start, end;  /* p_vaddr, p_vaddr + p_memsz */
	uint64_t filesz;      /* p_filesz */
	uint64_t avail;       /* of those, in the file (less if it is truncated) */
	uint64_t offset;      /* p_offset */
	unsigned prot;
};

/* Everything hs_core_open holds while it works. */
struct opening {
	const char *path;
	char name[160];
	int fd;
	uint64_t size;
	void *map;            /* until the memory source owns it */
	const unsigned char *base; /* the core's bytes */
	Elf *elf;
	GElf_Phdr *ph;
	size_t phnum;
	struct load *loads;
	size_t nloads;
	struct core_notes notes;
	struct core_mem *mem;
};

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

bool hs_core_probe_bytes(const void *head, size_t len)
{
	const unsigned char *h = head;

	return len >= HS_CORE_PROBE_LEN && memcmp(h, ELFMAG, SELFMAG) == 0 &&
	       h[EI_CLASS] == ELFCLASS64 && h[EI_DATA] == ELFDATA2LSB &&
	       get16(h + 16) == ET_CORE && get16(h + 18) == EM_X86_64;
}

/* Open read-only without blocking (a FIFO would), regular files only. */
static int open_regular(const char *path, uint64_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return hs_error(hs_error_from_errno(errno), "cannot open %s: %s", path,
				strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return hs_error(HS_EFORMAT, "%s is not a regular file", path);
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

int hs_core_probe(const char *path)
{
	unsigned char head[HS_CORE_PROBE_LEN];
	uint64_t size;
	ssize_t n;
	int fd = open_regular(path, &size);

	if (fd == HS_EFORMAT)
		return 0;
	if (fd < 0)
		return fd;
	n = pread(fd, head, sizeof(head), 0);
	close(fd);
	if (n < 0)
		return hs_error(HS_EIO, "cannot read %s: %s", path, strerror(errno));
	return hs_core_probe_bytes(head, (size_t)n);
}

/* What is wrong with a file that is not an x86-64 core, in one line. */
static int explain_not_core(const struct opening *o)
{
	unsigned char h[HS_CORE_PROBE_LEN];
	ssize_t n = pread(o->fd, h, sizeof(h), 0);

	if (n < SELFMAG || memcmp(h, ELFMAG, SELFMAG) != 0)
		return hs_error(HS_EFORMAT, "%s is not an ELF file", o->path);
	if (n < HS_CORE_PROBE_LEN)
		return hs_error(HS_EFORMAT, "%s is truncated: %zd bytes", o->path, n);
	if (h[EI_CLASS] != ELFCLASS64 || h[EI_DATA] != ELFDATA2LSB)
		return hs_error(HS_EFORMAT, "%s is not a 64-bit little-endian ELF file", o->path);
	if (get16(h + 16) != ET_CORE)
		return hs_error(HS_EFORMAT, "%s is an ELF file but not a core file (e_type %u)",
				o->path, get16(h + 16));
	return hs_error(HS_EFORMAT, "%s is a core file for machine %u, not x86-64", o->path,
			get16(h + 18));
}

/* ELF header and program headers, checked against the file size. */
static int read_headers(struct opening *o)
{
	GElf_Ehdr eh;

	if (!(o->elf = elf_begin(o->fd, ELF_C_READ_MMAP, NULL)) || elf_kind(o->elf) != ELF_K_ELF ||
	    !gelf_getehdr(o->elf, &eh))
		return hs_error(HS_EFORMAT, "%s is truncated or not an ELF file: %s", o->path,
				elf_errmsg(-1));
	if (eh.e_phentsize != sizeof(Elf64_Phdr))
		return hs_error(HS_EFORMAT, "%s: program header size %u, expected %zu", o->path,
				eh.e_phentsize, sizeof(Elf64_Phdr));
	/* libelf clips the count to what fits in the file: check e_phnum
	 * itself (PN_XNUM: the count is in section 0, libelf reads it) */
	if (elf_getphdrnum(o->elf, &o->phnum) != 0)
		return hs_error(HS_EFORMAT, "%s: cannot count program headers: %s", o->path,
				elf_errmsg(-1));
	if (eh.e_phnum != PN_XNUM && o->phnum != eh.e_phnum)
		o->phnum = SIZE_MAX;
	if (!o->phnum)
		return hs_error(HS_EFORMAT, "%s has no program headers", o->path);
	if (eh.e_phoff > o->size || o->phnum > (o->size - eh.e_phoff) / sizeof(Elf64_Phdr))
		return hs_error(HS_EFORMAT, "%s is truncated: its program headers end past the "
				"end of the file", o->path);
	if (o->phnum > HS_CORE_MAX_SEGMENTS)
		return hs_error(HS_EFORMAT, "%s has %zu program headers, more than %u", o->path,
				o->phnum, HS_CORE_MAX_SEGMENTS);
	if (!(o->ph = malloc(o->phnum * sizeof(*o->ph))))
		return hs_error(HS_ENOMEM, "reading %s", o->path);
	for (size_t i = 0; i < o->phnum; i++)
		if (!gelf_getphdr(o->elf, (int)i, &o->ph[i]))
			return hs_error(HS_EFORMAT, "%s: cannot read program header %zu: %s",
					o->path, i, elf_errmsg(-1));
	return 0;
}

static int cmp_load(const void *a, const void *b)
{
	const struct load *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

/* The PT_LOAD segments, checked, sorted, disjoint. */
static int read_loads(struct opening *o, unsigned *truncated)
{
	if (!(o->loads = calloc(o->phnum, sizeof(*o->loads))))
		return hs_error(HS_ENOMEM, "reading %s", o->path);
	for (size_t i = 0; i < o->phnum; i++) {
		const GElf_Phdr *p = &o->ph[i];
		struct load *l = &o->loads[o->nloads];
		uint64_t end;

		if (p->p_type != PT_LOAD || !p->p_memsz)
			continue;
		if (__builtin_add_overflow(p->p_vaddr, p->p_memsz, &l->end) ||
		    p->p_filesz > p->p_memsz ||
		    __builtin_add_overflow(p->p_offset, p->p_filesz, &end))
			return hs_error(HS_EFORMAT, "%s: program header %zu is invalid", o->path, i);
		l->start = p->p_vaddr;
		l->filesz = p->p_filesz;
		l->offset = p->p_offset;
		l->avail = end <= o->size ? p->p_filesz
			   : p->p_offset < o->size ? o->size - p->p_offset : 0;
		*truncated += l->avail < l->filesz;
		l->prot = (p->p_flags & PF_R ? HS_MAP_READ : 0) |
			  (p->p_flags & PF_W ? HS_MAP_WRITE : 0) |
			  (p->p_flags & PF_X ? HS_MAP_EXEC : 0);
		o->nloads++;
	}
	if (o->nloads > 1)
		qsort(o->loads, o->nloads, sizeof(*o->loads), cmp_load);
	for (size_t i = 1; i < o->nloads; i++)
		if (o->loads[i].start < o->loads[i - 1].end)
			return hs_error(HS_EFORMAT, "%s: segments at 0x%llx and 0x%llx overlap",
					o->path, (unsigned long long)o->loads[i - 1].start,
					(unsigned long long)o->loads[i].start);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static uint64_t clamp(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int push_map(struct hs_maps *maps, size_t *cap, const struct hs_map *m)
{
	if (maps->count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct hs_map *grown = realloc(maps->items, ncap * sizeof(*grown));

		if (!grown)
			return HS_ENOMEM;
		maps->items = grown;
		*cap = ncap;
	}
	maps->items[maps->count++] = *m;
	return 0;
}

/* One piece [a, e): inside load L and NT_FILE entry F (-1: none). */
static int add_piece(struct opening *o, uint64_t a, uint64_t e, long L, long F,
		     struct hs_core *out, size_t *mapcap)
{
	const struct core_fentry *f = F >= 0 ? &o->notes.files[F] : NULL;
	struct core_seg seg = {.start = a, .end = e, .core_end = a, .dump_end = a};
	struct hs_map map = {.start = a, .end = e, .prot = HS_MAP_READ};
	int err;

	if (L >= 0) {
		const struct load *l = &o->loads[L];

		seg.core_end = clamp(l->start + l->avail, a, e);
		seg.dump_end = clamp(l->start + l->filesz, a, e);
		if (seg.core_end > a)
			seg.data = o->base + l->offset + (a - l->start);
		seg.writable = l->prot & HS_MAP_WRITE;
		map.prot = l->prot;
		out->bytes_in_core += seg.core_end - a;
	}
	if (f && __builtin_add_overflow(f->offset, a - f->start, &seg.file_off))
		return hs_error(HS_EFORMAT, "%s: NT_FILE offset of %s is invalid", o->path, f->path);
	map.offset = seg.file_off;
	if (!(map.path = strdup(f ? f->path : "")))
		return hs_error(HS_ENOMEM, "reading %s", o->path);
	if (push_map(&out->maps, mapcap, &map) < 0) {
		free(map.path);
		return hs_error(HS_ENOMEM, "reading %s", o->path);
	}
	if ((err = core_mem_add(o->mem, &seg, f ? f->path : NULL)) < 0)
		return err;
	return 0;
}

/*
 * Join loads and NT_FILE entries: cut the address space at every start
 * and end of either, and keep each piece that one of them covers.  gcore
 * writes no PT_LOAD for read-only file mappings, the kernel one with
 * p_filesz 0 or one page: either way NT_FILE says which file holds them.
 */
static int build_pieces(struct opening *o, struct hs_core *out)
{
	size_t nf = o->notes.nfiles, nb = 0, li = 0, fi = 0, mapcap = 0;
	uint64_t *b = malloc(2 * (o->nloads + nf + 1) * sizeof(*b));
	int err = 0;

	if (!b)
		return hs_error(HS_ENOMEM, "reading %s", o->path);
	for (size_t i = 0; i < o->nloads; i++) {
		b[nb++] = o->loads[i].start;
		b[nb++] = o->loads[i].end;
	}
	for (size_t i = 0; i < nf; i++) {
		b[nb++] = o->notes.files[i].start;
		b[nb++] = o->notes.files[i].end;
	}
	if (nb)
		qsort(b, nb, sizeof(*b), cmp_u64);
	for (size_t k = 0; k + 1 < nb && !err; k++) {
		uint64_t a = b[k], e = b[k + 1];
		long L, F;

		if (a == e)
			continue;
		while (li < o->nloads && o->loads[li].end <= a)
			li++;
		while (fi < nf && o->notes.files[fi].end <= a)
			fi++;
		L = li < o->nloads && o->loads[li].start <= a ? (long)li : -1;
		F = fi < nf && o->notes.files[fi].start <= a ? (long)fi : -1;
		if (L >= 0 || F >= 0)
			err = add_piece(o, a, e, L, F, out, &mapcap);
	}
	free(b);
	return err;
}

static void close_opening(struct opening *o)
{
	if (o->mem)
		hs_memsrc_free(core_mem_src(o->mem));
	else if (o->map)
		munmap(o->map, o->size);
	if (o->elf)
		elf_end(o->elf);
	if (o->fd >= 0)
		close(o->fd);
	free(o->ph);
	free(o->loads);
	core_notes_release(&o->notes);
}

/* The parts of hs_core_open after the file is open and mapped. */
static int read_core(struct opening *o, const char *sysroot, struct hs_core *out)
{
	const char *exe;
	int err;

	if ((err = read_headers(o)) < 0 || (err = read_loads(o, &out->segments_truncated)) < 0 ||
	    (err = core_notes_read(o->elf, o->ph, o->phnum, o->size, o->path, &o->notes)) < 0)
		return err;
	exe = core_notes_exe(&o->notes);
	if ((err = hs_files_sysroot(sysroot, exe, o->name, &out->files)) < 0)
		return err;
	if (!(o->mem = core_mem_new(&out->files, o->map, o->size)))
		return hs_error(HS_ENOMEM, "reading %s", o->path);
	o->map = NULL; /* the memory source unmaps it */
	if ((err = build_pieces(o, out)) < 0)
		return err;
	core_mem_seal(o->mem);
	out->files_mismatched = core_mem_check_files(o->mem, out->mismatch, sizeof(out->mismatch));
	out->pid = o->notes.pid;
	out->os_threads = o->notes.threads;
	out->tids = o->notes.tids;
	out->tid_count = o->notes.tid_count;
	o->notes.tids = NULL;
	out->file_size = o->size;
	out->mem = core_mem_src(o->mem);
	o->mem = NULL;
	return 0;
}

int hs_core_open(const char *path, const char *sysroot, struct hs_core *out)
{
	struct opening o = {.path = path, .fd = -1};
	const char *base = strrchr(path, '/');
	unsigned char head[HS_CORE_PROBE_LEN];
	int err;

	memset(out, 0, sizeof(*out));
	snprintf(o.name, sizeof(o.name), "core file %s", base ? base + 1 : path);
	elf_version(EV_CURRENT);
	if ((o.fd = open_regular(path, &o.size)) < 0)
		return o.fd;
	if (!o.size) {
		err = hs_error(HS_EFORMAT, "%s is empty", path);
		goto out;
	}
	if (pread(o.fd, head, sizeof(head), 0) != (ssize_t)sizeof(head) ||
	    !hs_core_probe_bytes(head, sizeof(head))) {
		err = explain_not_core(&o);
		goto out;
	}
	if (o.size > SIZE_MAX ||
	    (o.map = mmap(NULL, (size_t)o.size, PROT_READ, MAP_PRIVATE, o.fd, 0)) == MAP_FAILED) {
		o.map = NULL;
		err = hs_error(HS_EIO, "cannot map %s: %s", path, strerror(errno));
		goto out;
	}
	o.base = o.map;
	err = read_core(&o, sysroot, out);
out:
	close_opening(&o);
	if (err < 0)
		hs_core_release(out);
	return err;
}

void hs_core_release(struct hs_core *c)
{
	hs_memsrc_free(c->mem);
	hs_maps_release(&c->maps);
	free(c->tids);
	memset(c, 0, sizeof(*c));
}
