#include "heapscope/elfinfo.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heapscope/error.h"

#define MAX_SYMBOLS (4u << 20)
#define MAX_RODATA (64u << 20)
#define VERIFY_LEN 4096

static const char *const sym_names[HS_SYM_COUNT] = {
#define HS_PYSYM_NAME(id, name) [HS_SYM_##id] = name,
	HS_PY_SYMBOLS(HS_PYSYM_NAME)
#undef HS_PYSYM_NAME
};

const char *hs_pysym_name(enum hs_pysym sym)
{
	return sym < HS_SYM_COUNT ? sym_names[sym] : "?";
}

static Elf_Scn *section_by_name(Elf *elf, const char *want, GElf_Shdr *shdr)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, shdr))
			continue;
		name = elf_strptr(elf, shstrndx, shdr->sh_name);
		if (name && strcmp(name, want) == 0)
			return scn;
	}
	return NULL;
}

/* Look `names` up in one symbol table (SHT_DYNSYM or SHT_SYMTAB); the
 * first definition found wins.  funcs_only: STT_FUNC symbols only. */
static void scan_symtab(Elf *elf, Elf_Scn *scn, const GElf_Shdr *shdr,
			const char *const *names, int count, bool funcs_only,
			uint64_t *value, uint64_t *size)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	bool first_char[256] = {false};
	size_t n;

	if (!data || !shdr->sh_entsize)
		return;
	for (int s = 0; s < count; s++)
		first_char[(unsigned char)names[s][0]] = true;
	n = shdr->sh_size / shdr->sh_entsize;
	if (n > MAX_SYMBOLS)
		n = MAX_SYMBOLS;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		const char *name;

		if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF ||
		    !sym.st_value || (funcs_only && GELF_ST_TYPE(sym.st_info) != STT_FUNC))
			continue;
		name = elf_strptr(elf, shdr->sh_link, sym.st_name);
		if (!name || !first_char[(unsigned char)name[0]])
			continue;
		for (int s = 0; s < count; s++)
			if (!value[s] && strcmp(name, names[s]) == 0) {
				value[s] = sym.st_value;
				size[s] = sym.st_size;
			}
	}
}

/* ELF values and sizes of `names`, 0 when absent: .dynsym first (it
 * survives stripping), then .symtab. */
static void lookup_symbols(Elf *elf, const char *const *names, int count, bool funcs_only,
			   uint64_t *value, uint64_t *size)
{
	for (int pass = 0; pass < 2; pass++) {
		Elf_Scn *scn = NULL;

		while ((scn = elf_nextscn(elf, scn))) {
			GElf_Shdr shdr;

			if (gelf_getshdr(scn, &shdr) &&
			    shdr.sh_type == (pass ? SHT_SYMTAB : SHT_DYNSYM))
				scan_symtab(elf, scn, &shdr, names, count, funcs_only, value, size);
		}
	}
}

/* Bytes at an ELF virtual address, from the file. */
static const unsigned char *bytes_at_vaddr(Elf *elf, uint64_t vaddr, size_t len)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type == SHT_NOBITS ||
		    vaddr < shdr.sh_addr || vaddr - shdr.sh_addr >= shdr.sh_size ||
		    len > shdr.sh_size - (vaddr - shdr.sh_addr))
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf || data->d_size != shdr.sh_size)
			return NULL;
		return (const unsigned char *)data->d_buf + (vaddr - shdr.sh_addr);
	}
	return NULL;
}

static void set_version(struct hs_pyelf *py, unsigned hex, const char *from)
{
	int level = (hex >> 4) & 0xf, serial = hex & 0xf;
	const char *tag = level == 0xa ? "a" : level == 0xb ? "b" : level == 0xc ? "rc" : "";

	py->hexversion = hex;
	py->major = (int)(hex >> 24);
	py->minor = (int)((hex >> 16) & 0xff);
	py->micro = (int)((hex >> 8) & 0xff);
	if (*tag)
		snprintf(py->version, sizeof(py->version), "%d.%d.%d%s%d", py->major,
			 py->minor, py->micro, tag, serial);
	else
		snprintf(py->version, sizeof(py->version), "%d.%d.%d", py->major,
			 py->minor, py->micro);
	snprintf(py->version_from, sizeof(py->version_from), "%s", from);
}

/* "3.8.18", "3.13.0rc2", "3.12.1+" */
static bool parse_version_string(const char *p, struct hs_pyelf *py, const char *from)
{
	regex_t re;
	regmatch_t m[4];
	bool ok;

	if (regcomp(&re, "^([23])\\.([0-9]{1,2})\\.([0-9]{1,2})((a|b|rc)[0-9]{1,2})?\\+?$",
		    REG_EXTENDED) != 0)
		return false;
	ok = strlen(p) < 16 && regexec(&re, p, 4, m, 0) == 0;
	if (ok) {
		unsigned major = (unsigned)atoi(p + m[1].rm_so);
		unsigned minor = (unsigned)atoi(p + m[2].rm_so);
		unsigned micro = (unsigned)atoi(p + m[3].rm_so);

		set_version(py, major << 24 | minor << 16 | micro << 8 | 0xf0, from);
		snprintf(py->version, sizeof(py->version), "%s", p);
	}
	regfree(&re);
	return ok;
}

/*
 * Before 3.11 there is no Py_Version.  Py_GetVersion() formats PY_VERSION,
 * a string literal, so the literal's address is the operand of one of the
 * function's RIP-relative LEAs.  (Searching .rodata for the literal is not
 * enough: the linker may merge it into the tail of a longer string such as
 * the install prefix "/root/.pyenv/versions/3.8.18".)
 */
static bool version_from_get_version(Elf *elf, uint64_t func, struct hs_pyelf *py)
{
	const unsigned char *code = bytes_at_vaddr(elf, func, 192);
	bool found = false;
	cs_insn *insn = NULL;
	csh cs;
	size_t n;

	if (!code || cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return false;
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	n = cs_disasm(cs, code, 192, func, 48, &insn);
	for (size_t i = 0; i < n && !found; i++) {
		const cs_x86 *x = &insn[i].detail->x86;
		const char *str;

		if (insn[i].id == X86_INS_RET)
			break;
		if (insn[i].id != X86_INS_LEA || x->op_count != 2 || x->operands[1].type != X86_OP_MEM ||
		    x->operands[1].mem.base != X86_REG_RIP)
			continue;
		str = (const char *)bytes_at_vaddr(elf, insn[i].address + insn[i].size +
							  (uint64_t)x->operands[1].mem.disp, 16);
		if (str && memchr(str, '\0', 16))
			found = parse_version_string(str, py, "Py_GetVersion");
	}
	cs_free(insn, n);
	cs_close(&cs);
	return found;
}

/* Last resort: a NUL-delimited string in .rodata that is exactly a version. */
static bool version_from_rodata(Elf *elf, struct hs_pyelf *py)
{
	GElf_Shdr shdr;
	Elf_Scn *scn = section_by_name(elf, ".rodata", &shdr);
	Elf_Data *data;

	if (!scn || !(data = elf_getdata(scn, NULL)) || !data->d_buf ||
	    data->d_size > MAX_RODATA)
		return false;
	for (const char *p = data->d_buf, *end = p + data->d_size; p < end;) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));

		if (!nul)
			break;
		if (nul - p >= 5 && nul - p < 16 && p[0] == '3' &&
		    parse_version_string(p, py, "rodata string"))
			return true;
		p = nul + 1;
	}
	return false;
}

void hs_elf_build_id(Elf *elf, char *out, size_t outlen)
{
	Elf_Scn *scn = NULL;

	out[0] = '\0';
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		Elf_Data *data;
		GElf_Nhdr nhdr;
		size_t off = 0, name_off, desc_off;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_NOTE ||
		    !(data = elf_getdata(scn, NULL)))
			continue;
		while ((off = gelf_getnote(data, off, &nhdr, &name_off, &desc_off)) > 0) {
			if (nhdr.n_type != NT_GNU_BUILD_ID || nhdr.n_namesz != 4 ||
			    memcmp((const char *)data->d_buf + name_off, "GNU", 4) != 0 ||
			    nhdr.n_descsz == 0 || 2 * nhdr.n_descsz + 1 > outlen)
				continue;
			for (size_t i = 0; i < nhdr.n_descsz; i++)
				snprintf(out + 2 * i, 3, "%02x",
					 ((const unsigned char *)data->d_buf)[desc_off + i]);
			return;
		}
	}
}

static const char *const func_names[HS_FUNC_COUNT] = {
#define HS_PYFUNC_NAME(id, name) [HS_FUNC_##id] = name,
	HS_PY_FUNCS(HS_PYFUNC_NAME)
#undef HS_PYFUNC_NAME
};

const char *hs_pyfunc_name(enum hs_pyfunc func)
{
	return func < HS_FUNC_COUNT ? func_names[func] : "?";
}

/* The HS_PY_FUNCS functions (STT_FUNC, defined), .dynsym first. */
static void read_functions(Elf *elf, struct hs_pyelf *py)
{
	uint64_t value[HS_FUNC_COUNT] = {0};

	lookup_symbols(elf, func_names, HS_FUNC_COUNT, true, value, py->func_size);
	for (int f = 0; f < HS_FUNC_COUNT; f++)
		py->func[f] = value[f] ? py->bias + value[f] : 0;
}

/* PT_GNU_RELRO: after relocation the loader makes it read-only, so a word
 * loaded from it (a GOT entry) is a constant of the process. */
static void read_relro(Elf *elf, struct hs_pyelf *py)
{
	size_t n;

	if (elf_getphdrnum(elf, &n) != 0)
		return;
	for (size_t i = 0; i < n && i < 256; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_GNU_RELRO) {
			py->relro_start = py->bias + ph.p_vaddr;
			py->relro_end = py->relro_start + ph.p_memsz;
			return;
		}
	}
}

/* vaddr - offset of the PT_LOAD that maps file offset 0 */
static int first_load_delta(Elf *elf, uint64_t *delta)
{
	size_t n;

	if (elf_getphdrnum(elf, &n) != 0)
		return -1;
	for (size_t i = 0; i < n && i < 256; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD) {
			*delta = (ph.p_vaddr & ~0xfffULL) - (ph.p_offset & ~0xfffULL);
			return 0;
		}
	}
	return -1;
}

/* Inspect one mapped ELF file: 1 if it holds the CPython runtime, 2 if it
 * is a CPython too old to have one (<= 3.6: Py_GetVersion but no
 * _PyRuntime), 0 otherwise. */
static int inspect(int fd, const struct hs_maps *maps, struct hs_pyelf *py)
{
	uint64_t value[HS_SYM_COUNT] = {0}, size[HS_SYM_COUNT] = {0}, base, delta;
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	GElf_Shdr shdr;
	int found = 0;

	if (!elf || elf_kind(elf) != ELF_K_ELF || gelf_getclass(elf) != ELFCLASS64)
		goto out;
	lookup_symbols(elf, sym_names, HS_SYM_COUNT, false, value, size);
	if (!value[HS_SYM_RUNTIME] && section_by_name(elf, ".PyRuntime", &shdr)) {
		/* 3.10+: _PyRuntime has its own section, found even with no symbols */
		value[HS_SYM_RUNTIME] = shdr.sh_addr;
		size[HS_SYM_RUNTIME] = shdr.sh_size;
	}
	if (!value[HS_SYM_RUNTIME] && value[HS_SYM_GET_VERSION]) {
		if (version_from_get_version(elf, value[HS_SYM_GET_VERSION], py) ||
		    version_from_rodata(elf, py))
			found = 2;
		goto out;
	}
	if (!value[HS_SYM_RUNTIME] || first_load_delta(elf, &delta) < 0 ||
	    !hs_maps_load_base(maps, py->path, &base))
		goto out;
	py->bias = base - delta;
	for (int s = 0; s < HS_SYM_COUNT; s++)
		py->sym[s] = value[s] ? py->bias + value[s] : 0;
	py->runtime_size = size[HS_SYM_RUNTIME];

	if (value[HS_SYM_PY_VERSION]) {
		const unsigned char *b = bytes_at_vaddr(elf, value[HS_SYM_PY_VERSION], 4);

		if (b)
			set_version(py, (unsigned)b[0] | (unsigned)b[1] << 8 |
					(unsigned)b[2] << 16 | (unsigned)b[3] << 24,
				    "Py_Version");
	}
	if (!py->hexversion && value[HS_SYM_GET_VERSION])
		version_from_get_version(elf, value[HS_SYM_GET_VERSION], py);
	if (!py->hexversion)
		version_from_rodata(elf, py);
	hs_elf_build_id(elf, py->build_id, sizeof(py->build_id));
	read_functions(elf, py);
	read_relro(elf, py);
	found = 1;
out:
	if (elf)
		elf_end(elf);
	return found;
}

static int looks_like_python(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return strncmp(base, "libpython", 9) == 0 || strncmp(base, "python", 6) == 0;
}

int hs_pyelf_open(const struct hs_files *files, const struct hs_pyelf *py)
{
	if (py->from_exe)
		return hs_files_open_exe(files);
	return hs_files_open_mapping(files, py->map_start, py->map_end, py->path);
}

int hs_pyelf_find(const struct hs_files *files, const struct hs_maps *maps,
		  struct hs_pyelf *out)
{
	char exe[PATH_MAX];
	int found;

	elf_version(EV_CURRENT);
	/* without it, the executable is simply not a candidate */
	if (hs_files_exe_path(files, exe, sizeof(exe)) < 0)
		exe[0] = '\0';

	/* libpython first (shared builds), then the executable, then any
	 * other mapped file whose name says python */
	for (int pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < maps->count; i++) {
			const struct hs_map *m = &maps->items[i];
			const char *base = strrchr(m->path, '/');
			int fd, want;

			if (m->offset != 0 || m->path[0] != '/')
				continue;
			base = base ? base + 1 : m->path;
			want = pass == 0 ? strncmp(base, "libpython", 9) == 0
			       : pass == 1 ? exe[0] && strcmp(m->path, exe) == 0
					   : looks_like_python(m->path);
			if (!want)
				continue;
			memset(out, 0, sizeof(*out));
			snprintf(out->path, sizeof(out->path), "%s", m->path);
			out->from_exe = pass == 1;
			out->map_start = m->start;
			out->map_end = m->end;
			fd = hs_pyelf_open(files, out);
			if (fd < 0)
				continue;
			found = inspect(fd, maps, out);
			close(fd);
			if (found == 1)
				return 0;
			if (found == 2)
				return hs_error(HS_EVERSION,
						"Python %s (%s) is not supported; heapscope supports 3.8 to 3.15",
						out->version, out->path);
		}
	}
	for (size_t i = 0; i < maps->count; i++)
		if (strstr(maps->items[i].path, "pypy"))
			return hs_error(HS_EVERSION, "%s runs PyPy (%s), which is not supported",
					files->name, maps->items[i].path);
	return hs_error(HS_ENOTPY,
			"%s is not a Python process (no mapped file holds _PyRuntime)",
			files->name);
}

/* Read up to len bytes at offset 0; the count read. */
static size_t read_head(int fd, unsigned char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

int hs_pyelf_verify(const struct hs_files *files, const struct hs_pyelf *py,
		    struct hs_memsrc *mem)
{
	unsigned char inmem[VERIFY_LEN], infile[VERIFY_LEN];
	size_t len = VERIFY_LEN, got;
	bool same;
	int fd;

	if (py->map_end - py->map_start < len)
		len = (size_t)(py->map_end - py->map_start);
	if (!len || hs_memsrc_read(mem, py->map_start, inmem, len) < 0)
		return 0;
	if ((fd = hs_pyelf_open(files, py)) < 0)
		return fd;
	got = read_head(fd, infile, len);
	close(fd);
	/* past the end of a short file, the page reads as zeros */
	same = memcmp(inmem, infile, got) == 0;
	for (size_t i = got; same && i < len; i++)
		same = inmem[i] == 0;
	if (same)
		return 0;
	if (hs_files_is_live(files))
		return hs_error(HS_EINCONSISTENT, "%s is not the file %s mapped: its first "
				"page differs (was it replaced since the process started?)",
				py->path, files->name);
	return hs_error(HS_EINCONSISTENT, "%s%s%s is not the file the process of %s mapped: "
			"its first page differs from the core's; pass the directory that holds "
			"the process's files with --sysroot", py->path,
			files->sysroot[0] ? " under " : "", files->sysroot, files->name);
}
