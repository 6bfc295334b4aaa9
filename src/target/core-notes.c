/*
 * The notes of a core file: NT_PRPSINFO (pid, command name), NT_PRSTATUS
 * (one per thread), NT_AUXV (entry point) and NT_FILE (the file behind
 * each mapping).  Layouts are the x86-64 ones of <linux/elfcore.h>.
 */
#include "core-internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "heapscope/core.h"
#include "heapscope/error.h"

/* struct elf_prpsinfo: pr_pid at 24, pr_fname[16] at 40 */
#define PRPSINFO_PID 24
#define PRPSINFO_FNAME 40
#define PRPSINFO_MIN 56
/* struct elf_prstatus: pr_info (12), pr_cursig (2+2), pr_sigpend, pr_sighold, pr_pid */
#define PRSTATUS_PID 32
#define PRSTATUS_MIN 36
#define AUXV_MAX_PAIRS 4096
#define FILE_ENTRY 24 /* start, end, page offset */

static uint64_t get64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static int32_t get32(const unsigned char *p)
{
	int32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static int note_prpsinfo(const unsigned char *desc, size_t len, const char *name,
			 struct core_notes *out)
{
	if (len < PRPSINFO_MIN)
		return hs_error(HS_EFORMAT, "%s: NT_PRPSINFO note of %zu bytes is too short",
				name, len);
	if (out->pid)
		return 0;
	out->pid = get32(desc + PRPSINFO_PID);
	memcpy(out->fname, desc + PRPSINFO_FNAME, 16);
	out->fname[16] = '\0';
	return 0;
}

static int note_prstatus(const unsigned char *desc, size_t len, const char *name,
			 struct core_notes *out)
{
	if (len < PRSTATUS_MIN)
		return hs_error(HS_EFORMAT, "%s: NT_PRSTATUS note of %zu bytes is too short",
				name, len);
	out->threads++;
	if (out->tid_count < HS_CORE_MAX_TIDS) {
		if (!(out->tid_count % 64)) {
			pid_t *grown = realloc(out->tids, (out->tid_count + 64) * sizeof(*grown));

			if (!grown)
				return hs_error(HS_ENOMEM, "reading the threads of %s", name);
			out->tids = grown;
		}
		out->tids[out->tid_count++] = get32(desc + PRSTATUS_PID);
	}
	return 0;
}

static void note_auxv(const unsigned char *desc, size_t len, struct core_notes *out)
{
	for (size_t i = 0; i < len / 16 && i < AUXV_MAX_PAIRS; i++) {
		uint64_t type = get64(desc + 16 * i), value = get64(desc + 16 * i + 8);

		if (type == AT_NULL)
			break;
		if (type == AT_ENTRY)
			out->at_entry = value;
		else if (type == AT_PHDR)
			out->at_phdr = value;
	}
}

static int cmp_fentry(const void *a, const void *b)
{
	const struct core_fentry *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

/* The entries of NT_FILE, each checked, then sorted and checked disjoint. */
static int file_entries(const unsigned char *desc, uint64_t count, uint64_t pagesz,
			size_t slen, const char *name, struct core_notes *out)
{
	const unsigned char *ent = desc + 16;
	size_t at = 0;

	for (uint64_t i = 0; i < count; i++, ent += FILE_ENTRY) {
		struct core_fentry *f = &out->files[i];
		const char *s = out->strings + at;
		const char *nul = at < slen ? memchr(s, '\0', slen - at) : NULL;

		if (!nul)
			return hs_error(HS_EFORMAT, "%s: NT_FILE name %llu is missing or not "
					"terminated", name, (unsigned long long)i);
		if (nul == s || nul - s >= PATH_MAX)
			return hs_error(HS_EFORMAT, "%s: NT_FILE name %llu has %zu bytes", name,
					(unsigned long long)i, (size_t)(nul - s));
		f->start = get64(ent);
		f->end = get64(ent + 8);
		f->path = s;
		if (f->start >= f->end || __builtin_mul_overflow(get64(ent + 16), pagesz, &f->offset))
			return hs_error(HS_EFORMAT, "%s: NT_FILE entry %llu (%s) is invalid", name,
					(unsigned long long)i, s);
		at += (size_t)(nul - s) + 1;
	}
	out->nfiles = (size_t)count;
	if (count > 1)
		qsort(out->files, (size_t)count, sizeof(*out->files), cmp_fentry);
	for (size_t i = 1; i < out->nfiles; i++)
		if (out->files[i].start < out->files[i - 1].end)
			return hs_error(HS_EFORMAT, "%s: NT_FILE entries for %s and %s overlap", name,
					out->files[i - 1].path, out->files[i].path);
	return 0;
}

/* NT_FILE: count, page size, count x {start, end, page offset}, names. */
static int note_file(const unsigned char *desc, size_t len, const char *name,
		     struct core_notes *out)
{
	uint64_t count, pagesz;
	size_t slen;

	if (out->files || out->strings)
		return 0; /* only the first NT_FILE counts */
	if (len < 16)
		return hs_error(HS_EFORMAT, "%s: NT_FILE note of %zu bytes is too short", name, len);
	count = get64(desc);
	pagesz = get64(desc + 8);
	if (count > HS_CORE_MAX_FILES)
		return hs_error(HS_EFORMAT, "%s: NT_FILE lists %llu files, more than %u", name,
				(unsigned long long)count, HS_CORE_MAX_FILES);
	if (count * FILE_ENTRY > len - 16)
		return hs_error(HS_EFORMAT, "%s: NT_FILE note of %zu bytes is too short for %llu "
				"files", name, len, (unsigned long long)count);
	if (!pagesz || pagesz > (1u << 30) || (pagesz & (pagesz - 1)))
		return hs_error(HS_EFORMAT, "%s: NT_FILE page size %llu is invalid", name,
				(unsigned long long)pagesz);
	slen = len - 16 - (size_t)count * FILE_ENTRY;
	out->strings = malloc(slen + 1);
	out->files = calloc(count ? (size_t)count : 1, sizeof(*out->files));
	if (!out->strings || !out->files)
		return hs_error(HS_ENOMEM, "reading the NT_FILE note of %s", name);
	if (slen)
		memcpy(out->strings, desc + 16 + count * FILE_ENTRY, slen);
	out->strings[slen] = '\0';
	return file_entries(desc, count, pagesz, slen, name, out);
}

static int one_note(const GElf_Nhdr *nh, const unsigned char *nm, const unsigned char *desc,
		    const char *name, struct core_notes *out)
{
	if (nh->n_namesz != 5 || memcmp(nm, "CORE", 5) != 0)
		return 0;
	switch (nh->n_type) {
	case NT_PRPSINFO:
		return note_prpsinfo(desc, nh->n_descsz, name, out);
	case NT_PRSTATUS:
		return note_prstatus(desc, nh->n_descsz, name, out);
	case NT_AUXV:
		note_auxv(desc, nh->n_descsz, out);
		return 0;
	case NT_FILE:
		return note_file(desc, nh->n_descsz, name, out);
	default:
		return 0;
	}
}

/* The notes of one PT_NOTE segment; *total counts notes across segments. */
static int note_segment(Elf *elf, const GElf_Phdr *ph, uint64_t size, const char *name,
			size_t *total, struct core_notes *out)
{
	Elf_Data *data;
	size_t off = 0;
	int err;

	if (ph->p_offset > size || ph->p_filesz > size - ph->p_offset)
		return hs_error(HS_EFORMAT, "%s is truncated: its notes end past the end of the "
				"file", name);
	data = elf_getdata_rawchunk(elf, (int64_t)ph->p_offset, ph->p_filesz, ELF_T_NHDR);
	if (!data || !data->d_buf)
		return hs_error(HS_EFORMAT, "%s: cannot read notes: %s", name, elf_errmsg(-1));
	while (off < data->d_size) {
		const unsigned char *base = data->d_buf;
		size_t name_off, desc_off, next;
		GElf_Nhdr nh;

		if (++*total > HS_CORE_MAX_NOTES)
			return hs_error(HS_EFORMAT, "%s has more than %u notes", name,
					HS_CORE_MAX_NOTES);
		next = gelf_getnote(data, off, &nh, &name_off, &desc_off);
		if (!next)
			return hs_error(HS_EFORMAT, "%s: malformed note at offset %llu", name,
					(unsigned long long)(ph->p_offset + off));
		if ((err = one_note(&nh, base + name_off, base + desc_off, name, out)) < 0)
			return err;
		off = next;
	}
	return 0;
}

int core_notes_read(Elf *elf, const GElf_Phdr *ph, size_t n, uint64_t size,
		    const char *name, struct core_notes *out)
{
	size_t total = 0;
	int err;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		if (ph[i].p_type == PT_NOTE && ph[i].p_filesz &&
		    (err = note_segment(elf, &ph[i], size, name, &total, out)) < 0) {
			core_notes_release(out);
			return err;
		}
	return 0;
}

void core_notes_release(struct core_notes *notes)
{
	free(notes->tids);
	free(notes->files);
	free(notes->strings);
	memset(notes, 0, sizeof(*notes));
}

static const struct core_fentry *fentry_at(const struct core_notes *n, uint64_t raddr)
{
	size_t lo = 0, hi = n->nfiles;

	while (raddr && lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (raddr < n->files[mid].start)
			hi = mid;
		else if (raddr >= n->files[mid].end)
			lo = mid + 1;
		else
			return &n->files[mid];
	}
	return NULL;
}

/*
 * The mapping holding the entry point (or the program headers) is the
 * executable's, as /proc/PID/exe would name it.  Without an auxv: the
 * first file mapped at offset 0 that is named like the command, else the
 * first one at all (the executable is mapped below the libraries).
 */
const char *core_notes_exe(const struct core_notes *n)
{
	const struct core_fentry *f;
	size_t flen = strlen(n->fname);

	if ((f = fentry_at(n, n->at_entry)) || (f = fentry_at(n, n->at_phdr)))
		return f->path;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n->nfiles; i++) {
			const char *base = strrchr(n->files[i].path, '/');

			base = base ? base + 1 : n->files[i].path;
			if (n->files[i].offset == 0 &&
			    (pass == 1 || (flen && strncmp(base, n->fname, flen) == 0)))
				return n->files[i].path;
		}
	return NULL;
}
