/*
 * Unit test of core files (core.h) and of where their files are found
 * (files.h), on small cores built here:
 *
 * 1. a well-formed core: pid, threads, exe, maps joined from PT_LOAD and
 *    NT_FILE, reads and views from the core, from the mapped file (under a
 *    sysroot and without one), across neighbouring pieces, and errors for
 *    what the core does not hold;
 * 2. a file whose first page differs from the core's: unreadable, named;
 * 3. hostile inputs, each one error and no crash: empty, non-ELF, non-core
 *    ELF, other machines, truncated headers, segments past the end of the
 *    file, bogus note sizes, huge NT_FILE counts, overlapping segments,
 *    FIFOs; then every truncation and random corruptions of a good core.
 * 4. hs_files under a sysroot: symlinks cannot leave it, FIFOs are refused.
 */
#include "heapscope/core.h"
#include "heapscope/error.h"
#include "heapscope/files.h"
#include "heapscope/memsrc.h"

#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"

#define PG 0x1000u

/* --- building cores ---------------------------------------------------- */

struct buf {
	unsigned char *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2 + 4096;
		b->p = realloc(b->p, b->cap);
	}
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void pad(struct buf *b, size_t align)
{
	static const unsigned char zeros[8];

	while (b->len % align)
		put(b, zeros, 1);
}

struct seg {
	uint32_t type;     /* PT_LOAD (0 means PT_LOAD) */
	uint64_t vaddr, memsz, filesz;
	uint32_t flags;
	const unsigned char *data; /* filesz bytes */
	int64_t offset;    /* >= 0: force p_offset (data not written) */
};

struct note {
	uint32_t type;
	const char *name;  /* "CORE" */
	const void *desc;
	size_t descsz;
	uint32_t namesz_override, descsz_override; /* 0: the real ones */
};

struct core_spec {
	const struct seg *segs;
	size_t nsegs;
	const struct note *notes;
	size_t nnotes;
	uint16_t type, machine;    /* 0: ET_CORE, EM_X86_64 */
	unsigned char class_;      /* 0: ELFCLASS64 */
	bool reverse_data;         /* write segment data last-first */
};

/* ELF header, PT_NOTE, PT_LOADs, notes, then the segments' bytes. */
static struct buf build_core(const struct core_spec *c)
{
	struct buf b = {0}, notes = {0};
	size_t nph = c->nsegs + 1, data_at;
	Elf64_Ehdr eh = {0};
	Elf64_Phdr *ph = calloc(nph, sizeof(*ph));
	uint64_t *offs = calloc(c->nsegs + 1, sizeof(*offs));

	for (size_t i = 0; i < c->nnotes; i++) {
		const struct note *n = &c->notes[i];
		Elf64_Nhdr nh = {
			.n_namesz = n->namesz_override ? n->namesz_override
						      : (uint32_t)strlen(n->name) + 1,
			.n_descsz = n->descsz_override ? n->descsz_override : (uint32_t)n->descsz,
			.n_type = n->type,
		};

		put(&notes, &nh, sizeof(nh));
		put(&notes, n->name, strlen(n->name) + 1);
		pad(&notes, 4);
		put(&notes, n->desc, n->descsz);
		pad(&notes, 4);
	}
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = c->class_ ? c->class_ : ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = c->type ? c->type : ET_CORE;
	eh.e_machine = c->machine ? c->machine : EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (uint16_t)nph;
	data_at = sizeof(eh) + nph * sizeof(Elf64_Phdr);
	ph[0] = (Elf64_Phdr){.p_type = PT_NOTE, .p_offset = data_at, .p_filesz = notes.len,
			     .p_flags = PF_R};
	data_at += notes.len;
	data_at = (data_at + 15) & ~(size_t)15;
	for (size_t k = 0; k < c->nsegs; k++) {
		size_t i = c->reverse_data ? c->nsegs - 1 - k : k;
		const struct seg *s = &c->segs[i];

		offs[i] = s->offset >= 0 && !s->data ? (uint64_t)s->offset : data_at;
		if (s->data)
			data_at += s->filesz;
	}
	for (size_t i = 0; i < c->nsegs; i++) {
		const struct seg *s = &c->segs[i];

		ph[i + 1] = (Elf64_Phdr){.p_type = s->type ? s->type : PT_LOAD, .p_flags = s->flags,
					 .p_offset = offs[i], .p_vaddr = s->vaddr,
					 .p_filesz = s->filesz, .p_memsz = s->memsz, .p_align = 1};
	}
	put(&b, &eh, sizeof(eh));
	put(&b, ph, nph * sizeof(*ph));
	put(&b, notes.p, notes.len);
	pad(&b, 16);
	for (size_t k = 0; k < c->nsegs; k++) {
		size_t i = c->reverse_data ? c->nsegs - 1 - k : k;

		if (c->segs[i].data)
			put(&b, c->segs[i].data, c->segs[i].filesz);
	}
	free(notes.p);
	free(ph);
	free(offs);
	return b;
}

static unsigned char prpsinfo[136], prstatus[2][336], auxv[64];

static void fill_thread_notes(int pid, const char *fname, uint64_t entry)
{
	int32_t p = pid;
	uint64_t pairs[8] = {AT_PHDR, 0, AT_ENTRY, entry, AT_PAGESZ, 4096, AT_NULL, 0};

	memcpy(prpsinfo + 24, &p, 4);
	snprintf((char *)prpsinfo + 40, 16, "%s", fname);
	for (int t = 0; t < 2; t++) {
		int32_t tid = pid + t;

		memcpy(prstatus[t] + 32, &tid, 4);
	}
	memcpy(auxv, pairs, sizeof(pairs));
}

struct fentry {
	uint64_t start, end, pgoff;
	const char *path;
};

/* NT_FILE descriptor: count, page size, entries, names. */
static struct buf nt_file(const struct fentry *f, size_t n, uint64_t count_override,
			  uint64_t pagesz)
{
	struct buf b = {0};
	uint64_t count = count_override ? count_override : n;

	put(&b, &count, 8);
	put(&b, &pagesz, 8);
	for (size_t i = 0; i < n; i++)
		put(&b, &f[i], 24);
	for (size_t i = 0; i < n; i++)
		put(&b, f[i].path, strlen(f[i].path) + 1);
	return b;
}

static char tmpdir[PATH_MAX];

static const char *tmp_path(const char *name)
{
	static char paths[8][PATH_MAX + 64];
	static int next;
	char *p = paths[next++ % 8];

	snprintf(p, PATH_MAX + 64, "%s/%s", tmpdir, name);
	return p;
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len)) {
		perror(path);
		exit(1);
	}
	close(fd);
}

/* --- the good core ----------------------------------------------------- */

/*
 * Address space of the good core:
 *   0x08000-0x09000  /usr/bin/fakepy          NT_FILE only (holds AT_ENTRY)
 *   0x10000-0x12000  anon rw                  in the core, pattern 1
 *   0x12000-0x13000  anon rw                  in the core, right after (contiguous)
 *   0x20000-0x25000  /usr/lib/libfake.so r    first page in the core (ELF), rest
 *                                             from the file; the file ends at
 *                                             0x3064: 0x23064-0x24000 reads zeros,
 *                                             0x24000- is past its end
 *   0x30000-0x32000  /usr/lib/libfake.so r    NT_FILE only, file offset 0x1000
 *   0x40000-0x41000  anon rw                  not dumped (p_filesz 0)
 *   0x50000-0x52000  /usr/lib/libfake.so rw   first page dumped, second from the
 *                                             file (offset 0x2000 + 0x1000)
 *   0x52000-0x53000  anon rw                  dumped (a .bss after .data)
 *   0x60000-0x61000, 0x61000-0x62000  anon    dumped, but their bytes lie in the
 *                                             core in the opposite order
 */
#define FILE_LEN (3 * PG + 100)
static unsigned char filebytes[FILE_LEN];
static unsigned char pat1[2 * PG], pat2[PG], first_page[PG], data_page[PG], bss[PG];
static unsigned char hpage[PG], ipage[PG];

static void fill_patterns(void)
{
	for (size_t i = 0; i < FILE_LEN; i++)
		filebytes[i] = (unsigned char)(i * 7 + 3);
	memcpy(filebytes, ELFMAG, SELFMAG);
	for (size_t i = 0; i < sizeof(pat1); i++)
		pat1[i] = (unsigned char)i;
	for (size_t i = 0; i < sizeof(pat2); i++)
		pat2[i] = (unsigned char)(0xff - (i & 0xff));
	memcpy(first_page, filebytes, PG);
	for (size_t i = 0; i < PG; i++) {
		data_page[i] = 0xda;
		bss[i] = 0xb5;
		hpage[i] = 0x11;
		ipage[i] = 0x22;
	}
}

/* The good core naming the library `lib`, with first page `fp`, and
 * `extra` more notes. */
static struct buf good_core(const char *lib, const unsigned char *fp, const struct note *extra,
			    size_t nextra)
{
	const struct seg segs[] = {
		{0, 0x10000, 2 * PG, 2 * PG, PF_R | PF_W, pat1, -1},
		{0, 0x12000, PG, PG, PF_R | PF_W, pat2, -1},
		{0, 0x20000, 5 * PG, PG, PF_R, fp, -1},
		{0, 0x40000, PG, 0, PF_R | PF_W, NULL, 0},
		{0, 0x50000, 2 * PG, PG, PF_R | PF_W, data_page, -1},
		{0, 0x52000, PG, PG, PF_R | PF_W, bss, -1},
	};
	const struct fentry files[] = {
		{0x8000, 0x9000, 0, "/usr/bin/fakepy"},
		{0x20000, 0x25000, 0, lib},
		{0x30000, 0x32000, 1, lib},
		{0x50000, 0x52000, 2, lib},
	};
	struct buf nf = nt_file(files, 4, 0, PG);
	struct note notes[8] = {
		{NT_PRPSINFO, "CORE", prpsinfo, sizeof(prpsinfo), 0, 0},
		{NT_PRSTATUS, "CORE", prstatus[0], sizeof(prstatus[0]), 0, 0},
		{NT_PRSTATUS, "CORE", prstatus[1], sizeof(prstatus[1]), 0, 0},
		{NT_AUXV, "CORE", auxv, sizeof(auxv), 0, 0},
		{NT_FILE, "CORE", nf.p, nf.len, 0, 0},
	};
	size_t nn = 5;
	struct buf b;

	for (size_t i = 0; i < nextra && nn < 8; i++)
		notes[nn++] = extra[i];
	b = build_core(&(struct core_spec){segs, 6, notes, nn, 0, 0, 0, false});
	free(nf.p);
	return b;
}

/* Two neighbouring pieces whose bytes lie in the core in reverse order. */
static struct buf reversed_core(void)
{
	const struct seg segs[] = {
		{0, 0x60000, PG, PG, PF_R | PF_W, hpage, -1},
		{0, 0x61000, PG, PG, PF_R | PF_W, ipage, -1},
	};
	const struct note notes[] = {{NT_PRPSINFO, "CORE", prpsinfo, sizeof(prpsinfo), 0, 0}};

	return build_core(&(struct core_spec){segs, 2, notes, 1, 0, 0, 0, true});
}

static bool bytes_are(const unsigned char *p, size_t len, const unsigned char *want)
{
	return p && memcmp(p, want, len) == 0;
}

static void test_maps(const struct hs_core *c, const char *lib)
{
	static const struct {
		uint64_t start, end;
		unsigned prot;
		uint64_t offset;
		int lib; /* 0 anon, 1 lib, 2 fakepy */
	} want[] = {
		{0x8000, 0x9000, HS_MAP_READ, 0, 2},
		{0x10000, 0x12000, HS_MAP_READ | HS_MAP_WRITE, 0, 0},
		{0x12000, 0x13000, HS_MAP_READ | HS_MAP_WRITE, 0, 0},
		{0x20000, 0x25000, HS_MAP_READ, 0, 1},
		{0x30000, 0x32000, HS_MAP_READ, PG, 1},
		{0x40000, 0x41000, HS_MAP_READ | HS_MAP_WRITE, 0, 0},
		{0x50000, 0x52000, HS_MAP_READ | HS_MAP_WRITE, 2 * PG, 1},
		{0x52000, 0x53000, HS_MAP_READ | HS_MAP_WRITE, 0, 0},
	};
	size_t n = sizeof(want) / sizeof(want[0]);
	bool same = c->maps.count == n;

	for (size_t i = 0; same && i < n; i++) {
		const struct hs_map *m = &c->maps.items[i];
		const char *path = want[i].lib == 1 ? lib : want[i].lib == 2 ? "/usr/bin/fakepy" : "";

		same = m->start == want[i].start && m->end == want[i].end &&
		       m->prot == want[i].prot && m->offset == want[i].offset &&
		       strcmp(m->path, path) == 0;
		if (!same)
			diag("map %zu: %llx-%llx prot %u off %llx '%s'", i,
			     (unsigned long long)m->start, (unsigned long long)m->end, m->prot,
			     (unsigned long long)m->offset, m->path);
	}
	ok(same, "maps: %zu entries from PT_LOAD and NT_FILE, with prot, offset and path",
	   c->maps.count);
	ok(hs_maps_find(&c->maps, 0x30800) && hs_maps_find(&c->maps, 0x30800)->offset == PG,
	   "hs_maps_find works on a core's maps");
}

static void test_reads(struct hs_memsrc *mem)
{
	unsigned char buf[64], want[64];
	const unsigned char *v;
	char s[64];
	uint64_t u;

	ok(hs_memsrc_read(mem, 0x10010, buf, 8) == 0 && bytes_are(buf, 8, pat1 + 0x10),
	   "read inside a dumped segment");
	memcpy(want, pat1 + 2 * PG - 8, 8);
	memcpy(want + 8, pat2, 8);
	ok(hs_memsrc_read(mem, 0x12000 - 8, buf, 16) == 0 && bytes_are(buf, 16, want),
	   "read across two neighbouring segments");
	v = hs_memsrc_view(mem, 0x12000 - 8, 16);
	ok(bytes_are(v, 16, want) &&
	   v == (const unsigned char *)hs_memsrc_view(mem, 0x10000, 1) + 2 * PG - 8,
	   "view across neighbouring segments points into the core (contiguous there)");
	ok(hs_memsrc_view(mem, 0x10000, 3 * PG) != NULL && hs_memsrc_view(mem, 0x10000, 3 * PG + 1) == NULL,
	   "view up to the end of the run, not one byte past");
	ok(hs_memsrc_view(mem, 0x10000, 0) != NULL, "zero-length view of a mapped address");

	ok(hs_memsrc_read(mem, 0x20000, buf, 16) == 0 && bytes_are(buf, 16, filebytes),
	   "read of a file mapping's first page: from the core");
	ok(hs_memsrc_read(mem, 0x21000 + 5, buf, 32) == 0 && bytes_are(buf, 32, filebytes + PG + 5),
	   "read past p_filesz: from the mapped file");
	v = hs_memsrc_view(mem, 0x22000, 64);
	ok(bytes_are(v, 64, filebytes + 2 * PG), "view past p_filesz: from the file's cached bytes");
	memcpy(want, first_page + PG - 8, 8);
	memcpy(want + 8, filebytes + PG, 8);
	ok(hs_memsrc_read(mem, 0x21000 - 8, buf, 16) == 0 && bytes_are(buf, 16, want),
	   "read across the end of p_filesz: core then file");
	ok(bytes_are(hs_memsrc_view(mem, 0x21000 - 8, 16), 16, want),
	   "view across the end of p_filesz");
	memset(want, 0, sizeof(want));
	memcpy(want, filebytes + 3 * PG + 100 - 4, 4);
	ok(hs_memsrc_read(mem, 0x23000 + 100 - 4, buf, 20) == 0 && bytes_are(buf, 20, want),
	   "read over the end of the file: zeros to the end of the page");
	ok(hs_memsrc_read(mem, 0x24000 - 8, buf, 8) == 0 &&
	   hs_memsrc_read(mem, 0x24000, buf, 8) == HS_EFAULT &&
	   hs_memsrc_read(mem, 0x24000 - 4, buf, 8) == HS_EFAULT,
	   "read past the page where the file ends: HS_EFAULT (%s)", hs_errmsg());
	ok(hs_memsrc_view(mem, 0x24000, 8) == NULL, "view past the end of the file: NULL");

	ok(hs_memsrc_read(mem, 0x30000 + 16, buf, 16) == 0 && bytes_are(buf, 16, filebytes + PG + 16),
	   "read of a mapping only NT_FILE lists: from the file at its offset");
	ok(hs_memsrc_read(mem, 0x40000, buf, 8) == HS_EFAULT && strstr(hs_errmsg(), "not dumped"),
	   "read of an anonymous segment the core left out: HS_EFAULT (%s)", hs_errmsg());
	ok(hs_memsrc_view(mem, 0x40000, 8) == NULL, "view of it: NULL");
	ok(hs_memsrc_read(mem, 0x15000, buf, 8) == HS_EFAULT && hs_memsrc_view(mem, 0x15000, 1) == NULL,
	   "read of an unmapped address: HS_EFAULT");
	ok(hs_memsrc_read(mem, 0x13000 - 4, buf, 8) == HS_EFAULT,
	   "read running off the end of a mapping into a gap: HS_EFAULT");

	memset(want, 0xda, 8);
	memcpy(want + 8, filebytes + 2 * PG + PG, 8);
	ok(hs_memsrc_read(mem, 0x51000 - 8, buf, 16) == 0 && bytes_are(buf, 16, want) &&
	   bytes_are(hs_memsrc_view(mem, 0x51000 - 8, 16), 16, want),
	   "a data segment: dumped page, then the file");
	/* file offset 0x3ff8: past the file's end, in its last page: zeros */
	memset(want, 0, 8);
	memset(want + 8, 0xb5, 8);
	ok(hs_memsrc_read(mem, 0x52000 - 8, buf, 16) == 0 && bytes_are(buf, 16, want) &&
	   bytes_are(hs_memsrc_view(mem, 0x52000 - 8, 16), 16, want),
	   "read and view from a file's bytes into the next (dumped) segment");
	ok(hs_memsrc_view(mem, 0x52000 - 8, 16) == hs_memsrc_view(mem, 0x52000 - 8, 16),
	   "the same view twice: the same copy");

	ok(hs_read_u64(mem, 0x10008, &u) == 0 && u == 0x0f0e0d0c0b0a0908ull, "hs_read_u64");
	ok(hs_read_cstr(mem, 0x20000, s, sizeof(s)) == 0 && strncmp(s, "\177ELF", 4) == 0,
	   "hs_read_cstr on a core");
	ok(hs_memsrc_read(mem, 0x10000, buf, (size_t)HS_MEMSRC_MAX_READ + 1) == HS_EUSAGE,
	   "a read over HS_MEMSRC_MAX_READ is refused");
}

static void test_good(const char *sysroot, const char *lib, const char *label)
{
	struct buf b = good_core(lib, first_page, NULL, 0);
	const char *path = tmp_path("core.good");
	struct hs_core c;
	int err;

	write_file(path, b.p, b.len);
	free(b.p);
	err = hs_core_open(path, sysroot, &c);
	if (!ok(err == 0, "%s: opened (%s)", label, err ? hs_errmsg() : "ok"))
		return;
	ok(c.pid == 4242 && c.os_threads == 2 && c.tid_count == 2 && c.tids[0] == 4242 &&
	   c.tids[1] == 4243, "%s: pid %d, %zu threads", label, c.pid, c.os_threads);
	ok(strcmp(c.files.exe, "/usr/bin/fakepy") == 0, "%s: exe '%s' from AT_ENTRY", label,
	   c.files.exe);
	ok(strcmp(c.files.name, "core file core.good") == 0, "%s: named '%s'", label, c.files.name);
	ok(c.files_mismatched == 0 && c.segments_truncated == 0 && c.mem,
	   "%s: nothing mismatched or truncated", label);
	ok(c.bytes_in_core == 6 * PG, "%s: %llu bytes in the core", label,
	   (unsigned long long)c.bytes_in_core);
	test_maps(&c, lib);
	test_reads(c.mem);
	hs_core_release(&c);
	hs_core_release(&c);
	ok(c.mem == NULL && c.maps.count == 0, "%s: released twice, no harm", label);
}

static void test_reversed(void)
{
	struct buf b = reversed_core();
	const char *path = tmp_path("core.rev");
	unsigned char want[16];
	const unsigned char *v;
	struct hs_core c;

	write_file(path, b.p, b.len);
	free(b.p);
	int err = hs_core_open(path, NULL, &c);

	if (!ok(err == 0, "reversed core opened (%s)", err ? hs_errmsg() : "ok"))
		return;
	memset(want, 0x11, 8);
	memset(want + 8, 0x22, 8);
	v = hs_memsrc_view(c.mem, 0x61000 - 8, 16);
	ok(bytes_are(v, 16, want), "view across neighbours stored apart in the core: copied");
	ok(c.pid == 4242 && c.os_threads == 0 && c.files.exe[0] == '\0' && c.maps.count == 2,
	   "no NT_FILE, no threads: exe unknown, two anonymous maps");
	hs_core_release(&c);
}

/* The file under the sysroot is another build: its first page differs. */
static void test_mismatch(const char *sysroot)
{
	unsigned char other[PG];
	struct buf b;
	const char *path = tmp_path("core.mismatch");
	unsigned char buf[16];
	struct hs_core c;

	memcpy(other, first_page, PG);
	other[0x100] ^= 0xff; /* as if another build id */
	b = good_core("/usr/lib/libfake.so", other, NULL, 0);
	write_file(path, b.p, b.len);
	free(b.p);
	int err = hs_core_open(path, sysroot, &c);

	if (!ok(err == 0, "mismatch: opened anyway (%s)", err ? hs_errmsg() : "ok"))
		return;
	ok(c.files_mismatched == 1 && strcmp(c.mismatch, "/usr/lib/libfake.so") == 0,
	   "mismatch: %u file named '%s'", c.files_mismatched, c.mismatch);
	ok(hs_memsrc_read(c.mem, 0x20000, buf, 16) == 0, "mismatch: the core's own page still reads");
	ok(hs_memsrc_read(c.mem, 0x21000, buf, 16) == HS_EINCONSISTENT &&
	   strstr(hs_errmsg(), "libfake.so") && strstr(hs_errmsg(), "--sysroot"),
	   "mismatch: the file's pages do not (%s)", hs_errmsg());
	ok(hs_memsrc_read(c.mem, 0x30000, buf, 16) == HS_EINCONSISTENT &&
	   hs_memsrc_view(c.mem, 0x30000, 16) == NULL,
	   "mismatch: nor its other mappings");
	hs_core_release(&c);
}

static void test_missing_file(void)
{
	struct buf b = good_core("/nonexistent/libgone.so", first_page, NULL, 0);
	const char *path = tmp_path("core.missing");
	unsigned char buf[16];
	struct hs_core c;

	write_file(path, b.p, b.len);
	free(b.p);
	int err = hs_core_open(path, NULL, &c);

	if (!ok(err == 0, "missing file: opened (%s)", err ? hs_errmsg() : "ok"))
		return;
	ok(hs_memsrc_read(c.mem, 0x21000, buf, 16) < 0 && strstr(hs_errmsg(), "libgone.so"),
	   "missing file: its pages do not read (%s)", hs_errmsg());
	ok(hs_memsrc_read(c.mem, 0x21000, buf, 16) < 0 && strstr(hs_errmsg(), "libgone.so"),
	   "missing file: again, same message");
	ok(hs_memsrc_read(c.mem, 0x10000, buf, 16) == 0, "missing file: the rest reads");
	hs_core_release(&c);
}

/* --- hostile inputs ---------------------------------------------------- */

static int open_bytes(const char *label, const void *data, size_t len, struct hs_core *c)
{
	const char *path = tmp_path("core.bad");

	(void)label;
	write_file(path, data, len);
	return hs_core_open(path, NULL, c);
}

/* The file must be refused with HS_EFORMAT and a message containing `what`. */
static void refused(const char *label, const void *data, size_t len, const char *what)
{
	struct hs_core c;
	int err = open_bytes(label, data, len, &c);

	ok(err == HS_EFORMAT && (!what || strstr(hs_errmsg(), what)) && !c.mem && !c.maps.count,
	   "%s: refused (%s)", label, err ? hs_errmsg() : "accepted");
	if (!err)
		hs_core_release(&c);
}

static void refused_spec(const char *label, const struct core_spec *spec, const char *what)
{
	struct buf b = build_core(spec);

	refused(label, b.p, b.len, what);
	free(b.p);
}

static void test_not_cores(void)
{
	static const char text[] = "this is not an ELF file at all, just text\n";
	unsigned char self[4096];
	int fd = open("/proc/self/exe", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, self, sizeof(self)) : -1;
	struct buf b;

	if (fd >= 0)
		close(fd);
	refused("empty file", "", 0, "empty");
	refused("text file", text, sizeof(text) - 1, "not an ELF file");
	refused("three bytes", "\177EL", 3, "not an ELF file");
	refused("ELF magic only", ELFMAG, SELFMAG, "truncated");
	if (n > 0)
		refused("an executable (the test itself)", self, (size_t)n, "not a core file");
	b = build_core(&(struct core_spec){NULL, 0, NULL, 0, 0, EM_AARCH64, 0, false});
	refused("an aarch64 core", b.p, b.len, "machine 183");
	ok(!hs_core_probe_bytes(b.p, b.len), "probe: an aarch64 core is not ours");
	free(b.p);
	b = build_core(&(struct core_spec){NULL, 0, NULL, 0, 0, 0, ELFCLASS32, false});
	refused("a 32-bit ELF", b.p, b.len, "64-bit");
	free(b.p);
	b = build_core(&(struct core_spec){NULL, 0, NULL, 0, ET_DYN, 0, 0, false});
	refused("ET_DYN", b.p, b.len, "not a core file");
	free(b.p);
}

static void test_bad_headers(void)
{
	const struct seg one[] = {{0, 0x10000, PG, PG, PF_R, pat1, -1}};
	struct buf b = build_core(&(struct core_spec){one, 1, NULL, 0, 0, 0, 0, false});
	Elf64_Ehdr *eh;
	Elf64_Phdr *ph;
	struct buf copy = {0};

	ok(hs_core_probe_bytes(b.p, b.len) && !hs_core_probe_bytes(b.p, HS_CORE_PROBE_LEN - 1),
	   "probe: a core, and not from too few bytes");
	refused("truncated ELF header", b.p, 40, "truncated");
	refused("truncated program headers", b.p, sizeof(Elf64_Ehdr) + 60, "truncated");

	put(&copy, b.p, b.len);
	eh = (Elf64_Ehdr *)copy.p;
	eh->e_phnum = 0;
	refused("no program headers", copy.p, copy.len, "no program headers");
	eh->e_phnum = 2;
	eh->e_phentsize = 32;
	refused("wrong e_phentsize", copy.p, copy.len, "program header size");
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phoff = (uint64_t)-64;
	refused("e_phoff near 2^64", copy.p, copy.len, NULL);
	eh->e_phoff = sizeof(Elf64_Ehdr);

	ph = (Elf64_Phdr *)(copy.p + sizeof(Elf64_Ehdr)) + 1;
	ph->p_vaddr = (uint64_t)0 - PG / 2;
	refused("segment wrapping past 2^64", copy.p, copy.len, "invalid");
	ph->p_vaddr = 0x10000;
	ph->p_filesz = 2 * PG;
	refused("p_filesz > p_memsz", copy.p, copy.len, "invalid");
	ph->p_filesz = PG;
	ph->p_offset = (uint64_t)-16;
	refused("p_offset + p_filesz past 2^64", copy.p, copy.len, "invalid");
	ph->p_offset = 0x1000000;
	{
		struct hs_core c;
		unsigned char x;
		int err = open_bytes("segment beyond EOF", copy.p, copy.len, &c);

		ok(err == 0 && c.segments_truncated == 1 &&
		   hs_memsrc_read(c.mem, 0x10000, &x, 1) == HS_EFAULT &&
		   hs_memsrc_view(c.mem, 0x10000, 1) == NULL,
		   "segment entirely past the end of the file: its bytes are unreadable (%s)",
		   hs_errmsg());
		if (!err)
			hs_core_release(&c);
	}
	free(copy.p);
	free(b.p);
}

static void test_truncated_segment(void)
{
	const struct seg two[] = {
		{0, 0x10000, 2 * PG, 2 * PG, PF_R | PF_W, pat1, -1},
		{0, 0x20000, PG, PG, PF_R | PF_W, pat2, -1},
	};
	struct buf b = build_core(&(struct core_spec){two, 2, NULL, 0, 0, 0, 0, false});
	struct hs_core c;
	unsigned char buf[16];
	int err = open_bytes("truncated core", b.p, b.len - PG - PG / 2, &c);

	if (ok(err == 0, "a core cut inside a segment opens (%s)", err ? hs_errmsg() : "ok")) {
		ok(c.segments_truncated == 2, "%u segments truncated", c.segments_truncated);
		ok(hs_memsrc_read(c.mem, 0x10000, buf, 16) == 0 && bytes_are(buf, 16, pat1),
		   "the bytes present read");
		ok(hs_memsrc_read(c.mem, 0x10000 + PG + PG / 2 - 16, buf, 16) == 0,
		   "up to where the file ends");
		ok(hs_memsrc_read(c.mem, 0x10000 + PG + PG / 2 - 8, buf, 16) == HS_EFAULT &&
		   strstr(hs_errmsg(), "truncated"),
		   "bytes past the end of the file do not (%s)", hs_errmsg());
		ok(hs_memsrc_view(c.mem, 0x10000 + PG + PG / 2 - 8, 16) == NULL &&
		   hs_memsrc_view(c.mem, 0x20000, 1) == NULL, "nor do their views");
		hs_core_release(&c);
	}
	free(b.p);
}

static void test_bad_notes(void)
{
	const struct seg one[] = {{0, 0x10000, PG, PG, PF_R, pat1, -1}};
	const struct fentry f2[] = {
		{0x10000, 0x12000, 0, "/a"},
		{0x11000, 0x13000, 0, "/b"},
	};
	const struct fentry f1[] = {{0x10000, 0x11000, 0, "/a"}};
	const struct fentry empty_end[] = {{0x10000, 0x10000, 0, "/a"}};
	struct buf nf;
	struct note n;

#define NOTE_CASE(label, what, ...)                                                       \
	do {                                                                              \
		n = (struct note){__VA_ARGS__};                                           \
		refused_spec(label, &(struct core_spec){one, 1, &n, 1, 0, 0, 0, false}, what); \
	} while (0)

	NOTE_CASE("descsz 0xffffffff", "malformed note", NT_PRSTATUS, "CORE", prstatus[0],
		  sizeof(prstatus[0]), 0, 0xffffffffu);
	NOTE_CASE("namesz 0x7fffffff", "malformed note", NT_PRSTATUS, "CORE", prstatus[0],
		  sizeof(prstatus[0]), 0x7fffffffu, 0);
	NOTE_CASE("descsz one past the segment", "malformed note", NT_PRSTATUS, "CORE",
		  prstatus[0], sizeof(prstatus[0]), 0, sizeof(prstatus[0]) + 4);
	NOTE_CASE("NT_PRSTATUS of 4 bytes", "NT_PRSTATUS", NT_PRSTATUS, "CORE", prstatus[0], 4,
		  0, 0);
	NOTE_CASE("NT_PRPSINFO of 20 bytes", "NT_PRPSINFO", NT_PRPSINFO, "CORE", prpsinfo, 20,
		  0, 0);
	NOTE_CASE("NT_FILE of 8 bytes", "NT_FILE", NT_FILE, "CORE", prpsinfo, 8, 0, 0);

	nf = nt_file(f1, 1, (uint64_t)1 << 40, PG);
	NOTE_CASE("NT_FILE count 2^40", "more than", NT_FILE, "CORE", nf.p, nf.len, 0, 0);
	free(nf.p);
	nf = nt_file(f1, 1, ((uint64_t)1 << 62) + 1, PG);
	NOTE_CASE("NT_FILE count 2^62+1 (count*24 wraps)", "NT_FILE", NT_FILE, "CORE", nf.p,
		  nf.len, 0, 0);
	free(nf.p);
	nf = nt_file(f1, 1, HS_CORE_MAX_FILES + 1, PG);
	NOTE_CASE("NT_FILE count cap + 1", "more than", NT_FILE, "CORE", nf.p, nf.len, 0, 0);
	free(nf.p);
	nf = nt_file(f1, 1, 1000, PG);
	NOTE_CASE("NT_FILE count 1000 in 40 bytes", "too short", NT_FILE, "CORE", nf.p, nf.len,
		  0, 0);
	free(nf.p);
	nf = nt_file(f1, 1, 0, 3);
	NOTE_CASE("NT_FILE page size 3", "page size", NT_FILE, "CORE", nf.p, nf.len, 0, 0);
	free(nf.p);
	nf = nt_file(f2, 2, 0, PG);
	NOTE_CASE("NT_FILE entries overlap", "overlap", NT_FILE, "CORE", nf.p, nf.len, 0, 0);
	free(nf.p);
	nf = nt_file(empty_end, 1, 0, PG);
	NOTE_CASE("NT_FILE entry with start == end", "invalid", NT_FILE, "CORE", nf.p, nf.len,
		  0, 0);
	free(nf.p);
	nf = nt_file(f1, 1, 0, PG);
	nf.len -= 1; /* the name loses its NUL */
	NOTE_CASE("NT_FILE name not terminated", "not terminated", NT_FILE, "CORE", nf.p,
		  nf.len, 0, 0);
	nf.len -= 2; /* no name at all */
	NOTE_CASE("NT_FILE name missing", "NT_FILE name", NT_FILE, "CORE", nf.p, nf.len, 0, 0);
	free(nf.p);
	nf = nt_file(f1, 1, 0, (uint64_t)1 << 30);
	((uint64_t *)nf.p)[4] = (uint64_t)1 << 40; /* page offset * page size wraps */
	NOTE_CASE("NT_FILE offset overflow", "invalid", NT_FILE, "CORE", nf.p, nf.len, 0, 0);
	free(nf.p);
#undef NOTE_CASE

	{
		/* the note segment itself past the end of the file */
		struct note ok_note = {NT_PRPSINFO, "CORE", prpsinfo, sizeof(prpsinfo), 0, 0};
		struct buf b = build_core(&(struct core_spec){one, 1, &ok_note, 1, 0, 0, 0, false});
		Elf64_Phdr *ph = (Elf64_Phdr *)(b.p + sizeof(Elf64_Ehdr));

		ph[0].p_offset = b.len - 8;
		refused("note segment past the end of the file", b.p, b.len, "truncated");
		ph[0].p_offset = (uint64_t)-8;
		refused("note segment offset near 2^64", b.p, b.len, "truncated");
		free(b.p);
	}
	{
		/* a note with another owner is skipped, whatever its type */
		struct note other = {NT_FILE, "LINUX", "garbage", 8, 0, 0};
		struct buf b = build_core(&(struct core_spec){one, 1, &other, 1, 0, 0, 0, false});
		struct hs_core c;
		int err = open_bytes("foreign note", b.p, b.len, &c);

		ok(err == 0 && c.maps.count == 1, "a note of another owner is ignored (%s)",
		   err ? hs_errmsg() : "ok");
		if (!err)
			hs_core_release(&c);
		free(b.p);
	}
}

/* An NT_FILE offset at the very top of the range: reads fail, no wrap. */
static void test_huge_offset(const char *lib_host)
{
	const struct seg one[] = {{0, 0x10000, PG, PG, PF_R, pat1, -1}};
	const struct fentry far[] = {{0x20000, 0x22000, ((uint64_t)1 << 52) - 1, lib_host}};
	struct buf nf = nt_file(far, 1, 0, PG);
	struct note n = {NT_FILE, "CORE", nf.p, nf.len, 0, 0};
	struct buf b = build_core(&(struct core_spec){one, 1, &n, 1, 0, 0, 0, false});
	unsigned char buf[16];
	struct hs_core c;
	int err = open_bytes("huge offset", b.p, b.len, &c);

	if (ok(err == 0, "NT_FILE offset 2^64 - 4096: opens (%s)", err ? hs_errmsg() : "ok")) {
		ok(c.maps.count == 2 && c.maps.items[1].offset == (uint64_t)0 - PG,
		   "its map has offset 0x%llx", (unsigned long long)c.maps.items[1].offset);
		ok(hs_memsrc_read(c.mem, 0x20000, buf, 16) == HS_EFAULT &&
		   hs_memsrc_read(c.mem, 0x21ff8, buf, 8) == HS_EFAULT &&
		   hs_memsrc_view(c.mem, 0x21000, 8) == NULL,
		   "reads of it fail (%s)", hs_errmsg());
		hs_core_release(&c);
	}
	free(b.p);
	free(nf.p);
}

static void test_overlapping_loads(void)
{
	const struct seg overlap[] = {
		{0, 0x10000, 2 * PG, 2 * PG, PF_R, pat1, -1},
		{0, 0x11000, PG, PG, PF_R, pat2, -1},
	};

	refused_spec("overlapping segments", &(struct core_spec){overlap, 2, NULL, 0, 0, 0, 0, false},
		     "overlap");
}

static void test_special_files(void)
{
	const char *fifo = tmp_path("fifo");
	struct hs_core c;

	ok(hs_core_open(tmpdir, NULL, &c) == HS_EFORMAT && strstr(hs_errmsg(), "regular"),
	   "a directory is refused (%s)", hs_errmsg());
	mkfifo(fifo, 0600);
	ok(hs_core_open(fifo, NULL, &c) == HS_EFORMAT, "a FIFO is refused without blocking (%s)",
	   hs_errmsg());
	ok(hs_core_probe(fifo) == 0, "probe: a FIFO is not a core");
	ok(hs_core_open(tmp_path("nonexistent"), NULL, &c) < 0 && !c.mem,
	   "a missing file is an error (%s)", hs_errmsg());
	ok(hs_core_probe(tmp_path("nonexistent")) < 0, "probe: a missing file is an error");
	ok(hs_core_probe(tmp_path("core.good")) == 1, "probe: the good core is one");
	ok(hs_core_probe("/proc/self/exe") == 0, "probe: an executable is not");
	ok(hs_core_open(tmp_path("core.good"), tmp_path("nonexistent"), &c) == HS_EUSAGE &&
	   !c.mem, "a missing sysroot is a usage error (%s)", hs_errmsg());
}

/* Read a little of every map: whatever a damaged core says, no crash. */
static void exercise(struct hs_core *c)
{
	unsigned char buf[64];
	char s[32];

	for (size_t i = 0; i < c->maps.count && i < 64; i++) {
		uint64_t a = c->maps.items[i].start;

		hs_memsrc_read(c->mem, a, buf, sizeof(buf));
		hs_memsrc_view(c->mem, a, 32);
		hs_memsrc_view(c->mem, c->maps.items[i].end - 8, 16);
		hs_read_cstr(c->mem, a, s, sizeof(s));
	}
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void test_damage(const char *sysroot)
{
	struct buf b = good_core("/usr/lib/libfake.so", first_page, NULL, 0);
	unsigned opened = 0, refused_n = 0, other = 0, rounds = 0;
	unsigned char *copy = malloc(b.len);
	size_t head = 64 + 7 * sizeof(Elf64_Phdr) + 2048;

	/* every truncation of the headers and notes, then every page */
	for (size_t len = 0; len <= b.len; len += len < head ? 7 : PG / 2) {
		struct hs_core c;
		int err = open_bytes("cut", b.p, len, &c);

		rounds++;
		if (!err) {
			opened++;
			exercise(&c);
			hs_core_release(&c);
		} else if (err == HS_EFORMAT) {
			refused_n++;
		} else {
			other++;
		}
	}
	ok(other == 0 && refused_n > 0 && opened > 0,
	   "%u truncations: %u refused with HS_EFORMAT, %u opened (their tails unreadable)",
	   rounds, refused_n, opened);

	/* random bytes in the headers and notes */
	opened = refused_n = other = 0;
	for (unsigned round = 0; round < 3000; round++) {
		const char *path = tmp_path("core.fuzz");
		struct hs_core c;
		int err;

		memcpy(copy, b.p, b.len);
		for (unsigned k = 0, n = 1 + (unsigned)(rnd() % 8); k < n; k++) {
			size_t at = (size_t)(rnd() % (head < b.len ? head : b.len));

			copy[at] = round % 3 ? (unsigned char)rnd() : (unsigned char)(copy[at] ^ 0x80);
		}
		write_file(path, copy, b.len);
		err = hs_core_open(path, sysroot, &c);
		if (!err) {
			opened++;
			exercise(&c);
			hs_core_release(&c);
		} else if (err == HS_EFORMAT) {
			refused_n++;
		} else {
			other++;
		}
	}
	ok(opened + refused_n + other == 3000,
	   "3000 corrupted cores: %u opened, %u refused, %u other errors, no crash", opened,
	   refused_n, other);
	free(copy);
	free(b.p);
}

/* --- hs_files ------------------------------------------------------------ */

static void test_files(const char *sysroot, const char *lib_host)
{
	struct hs_files f;
	char buf[PATH_MAX], sub[PATH_MAX + 128];
	int fd;

	ok(hs_files_live(42, &f) == 0 && f.pid == 42 && strcmp(f.name, "PID 42") == 0 &&
	   hs_files_is_live(&f), "hs_files_live");
	ok(hs_files_sysroot(NULL, "/usr/bin/x", "core file c", &f) == 0 && !f.sysroot[0] &&
	   !hs_files_is_live(&f) && hs_files_exe_path(&f, buf, sizeof(buf)) == 0 &&
	   strcmp(buf, "/usr/bin/x") == 0, "hs_files_sysroot without a sysroot");
	ok(hs_files_sysroot("/", NULL, "c", &f) == 0 && !f.sysroot[0] &&
	   hs_files_exe_path(&f, buf, sizeof(buf)) < 0 && hs_files_open_exe(&f) < 0,
	   "sysroot '/' is none; an unknown exe is an error");
	fd = hs_files_open(&f, lib_host);
	ok(fd >= 0, "no sysroot: a host path opens (%s)", fd < 0 ? hs_errmsg() : "ok");
	if (fd >= 0)
		close(fd);
	ok(hs_files_open(&f, "usr/lib/libfake.so") < 0, "a relative path is refused");

	snprintf(sub, sizeof(sub), "%s/./", sysroot);
	ok(hs_files_sysroot(sub, "/usr/lib/libfake.so", "c", &f) == 0 &&
	   strcmp(f.sysroot, sysroot) == 0, "the sysroot is made canonical: %s", f.sysroot);
	fd = hs_files_open_exe(&f);
	ok(fd >= 0, "exe opens under the sysroot (%s)", fd < 0 ? hs_errmsg() : "ok");
	if (fd >= 0)
		close(fd);
	fd = hs_files_open_mapping(&f, 0x1000, 0x2000, "/usr/lib/libfake.so");
	ok(fd >= 0, "a mapping opens under the sysroot by path");
	if (fd >= 0)
		close(fd);
	snprintf(sub, sizeof(sub), "%s/usr/lib/libfake.so", sysroot);
	fd = hs_files_open(&f, sub);
	ok(fd >= 0, "a path that already starts with the sysroot (gcore of a chroot) opens");
	if (fd >= 0)
		close(fd);
	ok(hs_files_open(&f, "/usr/lib/escape.so") < 0,
	   "an absolute symlink stays inside the sysroot (%s)", hs_errmsg());
	ok(hs_files_open(&f, "/../../../../../../etc/passwd") < 0,
	   "'..' stays inside the sysroot (%s)", hs_errmsg());
	ok(hs_files_open(&f, "/usr/lib/fifo.so") < 0 && strstr(hs_errmsg(), "regular"),
	   "a FIFO under the sysroot is refused without blocking (%s)", hs_errmsg());
	ok(hs_files_open(&f, "/usr/lib") < 0, "a directory is refused");
	ok(hs_files_sysroot(lib_host, NULL, "c", &f) == HS_EUSAGE,
	   "a sysroot that is a file is refused (%s)", hs_errmsg());
}

/* tmpdir/root/usr/{bin/fakepy, lib/libfake.so, lib/escape.so -> /etc/passwd,
 * lib/fifo.so}; tmpdir/host/libfake.so (for cores without a sysroot) */
static void make_trees(char *sysroot, size_t len, char *lib_host, size_t hostlen)
{
	char p[PATH_MAX + 128];

	snprintf(sysroot, len, "%s/root", tmpdir);
	snprintf(p, sizeof(p), "%s/usr", sysroot);
	mkdir(sysroot, 0700);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/usr/lib", sysroot);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/usr/bin", sysroot);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/usr/lib/libfake.so", sysroot);
	write_file(p, filebytes, FILE_LEN);
	snprintf(p, sizeof(p), "%s/usr/bin/fakepy", sysroot);
	write_file(p, filebytes, 64);
	snprintf(p, sizeof(p), "%s/usr/lib/escape.so", sysroot);
	if (symlink("/etc/passwd", p) != 0)
		perror(p);
	snprintf(p, sizeof(p), "%s/usr/lib/fifo.so", sysroot);
	mkfifo(p, 0600);
	snprintf(p, sizeof(p), "%s/host", tmpdir);
	mkdir(p, 0700);
	snprintf(lib_host, hostlen, "%s/host/libfake.so", tmpdir);
	write_file(lib_host, filebytes, FILE_LEN);
}

static void cleanup(void)
{
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		diag("could not remove %s", tmpdir);
}

int main(void)
{
	const char *t = getenv("TMPDIR");
	char sysroot[PATH_MAX + 64], lib_host[PATH_MAX + 64];

	char made[PATH_MAX];

	snprintf(made, sizeof(made), "%s/hs-test-core-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(made) || !realpath(made, tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	fill_patterns();
	fill_thread_notes(4242, "fakepy", 0x8100);
	make_trees(sysroot, sizeof(sysroot), lib_host, sizeof(lib_host));

	test_good(sysroot, "/usr/lib/libfake.so", "sysroot");
	test_good(NULL, lib_host, "no sysroot");
	test_reversed();
	test_mismatch(sysroot);
	test_missing_file();
	test_not_cores();
	test_bad_headers();
	test_truncated_segment();
	test_bad_notes();
	test_overlapping_loads();
	test_huge_offset(lib_host);
	test_special_files();
	test_damage(sysroot);
	test_files(sysroot, lib_host);
	cleanup();
	return done();
}
