/* SPDX-License-Identifier: GPL-2.0-or-later */
/* containerd and CRI-O configs are TOML; toml11 parses them.  We never
 * re-serialise a user's file (that would drop comments and reorder it):
 * we append our tables as text and prove with the parser that the result
 * means the old settings plus ours, nothing else. */
extern "C" {
#include "util.h"
}
#include "tomlconf.h"

#include <sstream>
#include <string>
#include <vector>

#include <toml.hpp>

namespace {

/* toml11's messages span several lines (a source excerpt): keep the
 * first line and the line number. */
int parse_failed(const toml::exception &e, hook_error_t *err)
{
        std::string m = e.what(), first = m.substr(0, m.find('\n'));
        const char *p = first.c_str();

        if (first.rfind("[error] ", 0) == 0)
                p += 8;
        return hook_error_set(err, EINVAL, "invalid TOML at line %lu: %.300s",
                              (unsigned long)e.location().line(), p);
}

int parse(const char *buf, size_t len, toml::value *ret, hook_error_t *err)
{
        try {
                std::istringstream in(std::string(buf, len));
                *ret = toml::parse(in, "config");
        } catch (const toml::exception &e) {
                return parse_failed(e, err);
        } catch (const std::exception &e) {
                return hook_error_set(err, EINVAL, "invalid TOML: %.300s", e.what());
        }
        return 0;
}

/* The table at PATH below ROOT, NULL when a part is missing; -EINVAL
 * when a part exists but is no table. */
int lookup(const toml::value &root, const std::vector<std::string> &path, const toml::value **ret,
           hook_error_t *err)
{
        const toml::value *v = &root;
        std::string at;

        for (const auto &k : path) {
                at += (at.empty() ? "" : ".") + k;
                if (!v->is_table() || !v->contains(k)) {
                        *ret = nullptr;
                        return 0;
                }
                v = &v->at(k);
                if (!v->is_table())
                        return hook_error_set(err, EINVAL, "`%.200s` is not a table", at.c_str());
        }
        *ret = v;
        return 0;
}

toml::value &make_path(toml::value &root, const std::vector<std::string> &path)
{
        toml::value *v = &root;

        for (const auto &k : path) {
                if (!v->contains(k))
                        v->as_table()[k] = toml::table{};
                v = &v->as_table()[k];
        }
        return *v;
}

/* A TOML basic string. */
std::string quote(const std::string &s)
{
        std::string o = "\"";
        char hex[8];

        for (unsigned char c : s) {
                if (c == '"' || c == '\\') {
                        o += '\\';
                        o += (char)c;
                } else if (c < 0x20 || c == 0x7f) {
                        (void)snprintf(hex, sizeof(hex), "\\u%04x", c);
                        o += hex;
                } else {
                        o += (char)c;
                }
        }
        return o + "\"";
}

/* A dotted table header: bare keys where allowed, else quoted (v3 uses
 * 'single quotes', as containerd 2.x's own `config default`). */
std::string header(const std::vector<std::string> &path, bool single)
{
        std::string h;

        for (const auto &k : path) {
                bool bare = !k.empty() && k.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                              "0123456789_-") == std::string::npos;
                h += (h.empty() ? "" : ".") + (bare ? k : single ? "'" + k + "'" : quote(k));
        }
        return h;
}

bool string_is(const toml::value &t, const char *key, const char *want)
{
        return t.contains(key) && t.at(key).is_string() && t.at(key).as_string().str == want;
}

/* The existing handler: as wanted (0), or a one-line difference (<0). */
int check_existing(const toml::value &h, const struct ctrd_want *w, const std::string &where, hook_error_t *err)
{
        const char *bad = nullptr;

        if (!string_is(h, "runtime_type", "io.containerd.runc.v2"))
                bad = "runtime_type is not \"io.containerd.runc.v2\"";
        else if (!string_is(h, "base_runtime_spec", w->base_spec))
                bad = "its base_runtime_spec differs";
        else if (!h.contains("options") || !h.at("options").is_table() ||
                 !string_is(h.at("options"), "BinaryName", w->binary))
                bad = "its options.BinaryName differs";
        if (!bad)
                return 0;
        return hook_error_set(err, EEXIST,
                              "the runtime handler `%.64s` exists with other settings (%s) at [%.200s]: remove it "
                              "or choose another name with --handler",
                              w->handler, bad, where.c_str());
}

bool cri_disabled(const toml::value &root, int version)
{
        if (!root.contains("disabled_plugins") || !root.at("disabled_plugins").is_array())
                return false;
        for (const auto &p : root.at("disabled_plugins").as_array()) {
                if (!p.is_string())
                        continue;
                const std::string &s = p.as_string().str;
                if (s == "cri" || s == "io.containerd.grpc.v1.cri" ||
                    (version == 3 && s == "io.containerd.cri.v1.runtime"))
                        return true;
        }
        return false;
}

int config_version(const toml::value &root, bool *ret_empty, int *ret, hook_error_t *err)
{
        *ret_empty = root.as_table().empty();
        if (!root.contains("version")) {
                if (*ret_empty) {
                        *ret = 2;   /* containerd 1.6, 1.7 and 2.x all read version 2 */
                        return 0;
                }
                return hook_error_set(err, EINVAL, "the config has no `version`: containerd reads it as version 1, "
                                      "which this command does not write; add `version = 2` (containerd "
                                      "1.x) or migrate it (`containerd config migrate`, containerd >= 1.7)");
        }
        const toml::value &v = root.at("version");
        if (!v.is_integer() || (v.as_integer() != 2 && v.as_integer() != 3))
                return hook_error_set(err, EINVAL, "config `version` is not 2 or 3 (containerd 1.6/1.7: 2, 2.x: 3)");
        *ret = (int)v.as_integer();
        return 0;
}

/* The tables we append, as text. */
std::string handler_text(const std::vector<std::string> &path, int version, const struct ctrd_want *w,
                         const toml::value *systemd_cgroup)
{
        std::ostringstream o;
        std::vector<std::string> opts = path;

        opts.push_back("options");
        o << "\n# Added by `oci-systemd-hook configure containerd`: pods with a RuntimeClass whose\n"
          << "# handler is \"" << w->handler << "\" get oci-systemd-hook (systemd as PID 1).\n"
          << "[" << header(path, version == 3) << "]\n"
          << "  runtime_type = \"io.containerd.runc.v2\"\n"
          << "  base_runtime_spec = " << quote(w->base_spec) << "\n"
          << "\n[" << header(opts, version == 3) << "]\n"
          << "  BinaryName = " << quote(w->binary) << "\n";
        if (systemd_cgroup)
                o << "  SystemdCgroup = " << (systemd_cgroup->as_boolean() ? "true" : "false")
                  << "  # as the runc handler's\n";
        return o.str();
}

/* The runc handler's options.SystemdCgroup (kubelet's cgroup driver):
 * ours must match it, or pods of our handler land in the wrong tree. */
const toml::value *runc_systemd_cgroup(const toml::value &root, std::vector<std::string> runtimes)
{
        const toml::value *t = nullptr;
        hook_error_t ignored = {};

        runtimes.push_back("runc");
        runtimes.push_back("options");
        if (lookup(root, runtimes, &t, &ignored) < 0 || !t || !t->contains("SystemdCgroup") ||
            !t->at("SystemdCgroup").is_boolean())
                return nullptr;
        return &t->at("SystemdCgroup");
}

int containerd_edit(const char *buf, size_t len, const struct ctrd_want *w, char **ret_text, int *ret_version,
                    char *warning, size_t warning_len, hook_error_t *err)
{
        toml::value root = toml::table{}, again;
        const toml::value *existing = nullptr, *scg;
        bool empty;
        int r, version = 2;

        if (len > 0 && (r = parse(buf, len, &root, err)) < 0)
                return r;
        if ((r = config_version(root, &empty, &version, err)) < 0)
                return r;
        *ret_version = version;
        std::vector<std::string> runtimes = { "plugins",
                                              version == 3 ? "io.containerd.cri.v1.runtime" : "io.containerd.grpc.v1.cri",
                                              "containerd", "runtimes" };
        std::vector<std::string> path = runtimes;
        path.push_back(w->handler);
        if (cri_disabled(root, version))
                (void)snprintf(warning, warning_len, "the CRI plugin is in `disabled_plugins`: remove it there, or "
                               "the handler is never used");
        if ((r = lookup(root, path, &existing, err)) < 0)
                return r;
        if (existing)
                return check_existing(*existing, w, header(path, version == 3), err);

        scg = runc_systemd_cgroup(root, runtimes);
        std::string text(buf, len);
        if (empty && !root.contains("version"))
                text = "version = 2\n" + text;
        if (!text.empty() && text.back() != '\n')
                text += '\n';
        text += handler_text(path, version, w, scg);

        /* The proof: parse what we would write; it must be the old
         * settings plus exactly our handler. */
        toml::value want = root;
        toml::value &h = make_path(want, path);
        h.as_table()["runtime_type"] = "io.containerd.runc.v2";
        h.as_table()["base_runtime_spec"] = w->base_spec;
        h.as_table()["options"] = toml::table{ { "BinaryName", w->binary } };
        if (scg)
                h.as_table()["options"].as_table()["SystemdCgroup"] = scg->as_boolean();
        if (!want.contains("version"))
                want.as_table()["version"] = 2;
        if ((r = parse(text.data(), text.size(), &again, err)) < 0)
                return hook_error_prefix(err, "appending [%.200s] would not be valid TOML (the table is defined "
                                         "in a form that cannot be extended)", header(path, version == 3).c_str());
        if (!(again == want))
                return hook_error_set(err, EINVAL, "appending [%.200s] would change other settings: refused",
                                      header(path, version == 3).c_str());
        *ret_text = xstrdup(text.c_str());
        return 0;
}

int string_array(const char *buf, size_t len, const char *const *keys, size_t n_keys, char ***ret,
                 hook_error_t *err)
{
        toml::value root;
        const toml::value *v;
        std::string at;
        int r;

        if ((r = parse(buf, len, &root, err)) < 0)
                return r;
        v = &root;
        for (size_t i = 0; i < n_keys; i++) {
                at += std::string(i ? "." : "") + keys[i];
                if (!v->is_table() || !v->contains(keys[i]))
                        return 0;
                v = &v->at(keys[i]);
        }
        if (!v->is_array())
                return hook_error_set(err, EINVAL, "`%.200s` is not an array", at.c_str());
        const auto &a = v->as_array();
        char **list = (char **)xcalloc(a.size() + 1, sizeof(char *));
        for (size_t i = 0; i < a.size(); i++) {
                if (!a[i].is_string()) {
                        for (size_t j = 0; j < i; j++)
                                free(list[j]);
                        free(list);
                        return hook_error_set(err, EINVAL, "`%.200s[%zu]` is not a string", at.c_str(), i);
                }
                list[i] = xstrdup(a[i].as_string().str.c_str());
        }
        *ret = list;
        return 1;
}

} // namespace

/* No C++ exception may cross into C. */
extern "C" int tomlconf_containerd(const char *buf, size_t len, const struct ctrd_want *w, char **ret_text,
                                   int *ret_version, char *warning, size_t warning_len, hook_error_t *err)
{
        *ret_text = nullptr;
        if (warning_len)
                warning[0] = '\0';
        try {
                return containerd_edit(buf, len, w, ret_text, ret_version, warning, warning_len, err);
        } catch (const std::exception &e) {
                return hook_error_set(err, EINVAL, "containerd config: %.300s", e.what());
        }
}

extern "C" int tomlconf_string_array(const char *buf, size_t len, const char *const *keys, size_t n_keys,
                                     char ***ret, hook_error_t *err)
{
        try {
                return string_array(buf, len, keys, n_keys, ret, err);
        } catch (const std::exception &e) {
                return hook_error_set(err, EINVAL, "TOML: %.300s", e.what());
        }
}
