/* The REPL of the ember executable: line editing with persistent history and Tab
 * completion, automatic printing of results, multi-line input, Ctrl-C that clears the
 * line at the prompt and stops running code, and `help` / `?expr` for short help.
 * Printing and completion candidates come from lua/ember/repl.lua.
 *
 * Line editing is libedit, through its readline-compatible API (readline, add_history,
 * read_history/write_history, rl_attempted_completion_function, rl_completion_matches).
 * It is BSD-licensed, maintained with NetBSD and packaged everywhere (Debian
 * libedit-dev). GNU readline is GPL: linking it would make the executable GPL.
 * At the prompt Ctrl-C clears the line (the default action would end the session);
 * while code runs, ember_docall's handler turns it into an "interrupted!" error. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>
#include <lauxlib.h>
#include <lua.h>

#include "lua_repl.h"

#define HISTORY_LINES 1000
#define HISTORY_FILE ".ember_history"   /* in $HOME, unless $EMBER_HISTORY names a file */

/* Process-wide REPL state: there is one terminal, and libedit's callbacks take no
 * user pointer. */
static lua_State *repl_L;                       /* for the completion callback */
static int repl_module = LUA_NOREF;             /* registry ref to ember.repl, if loaded */
static volatile sig_atomic_t prompt_interrupted;
static char history_path[4096];
static char **candidates;                       /* of the current completion */
static int ncandidates, next_candidate;

/* --- Ctrl-C at the prompt ---
 * libedit's own signal handling is off (rl_catch_signals = 0). This handler is
 * installed without SA_RESTART, so the read inside readline() fails with EINTR and
 * readline() returns NULL with the flag set: the caller drops the line and prompts again. */
static void on_prompt_interrupt(int sig) {
  (void)sig;
  prompt_interrupted = 1;
}

/* Reads one line with the given prompt (without its newline; caller frees), or NULL
 * at end of input or after Ctrl-C (then prompt_interrupted is set). */
static char *read_line(int tty, const char *prompt) {
  prompt_interrupted = 0;
  if (!tty) {
    char *buf = NULL;
    size_t cap = 0;
    fputs(prompt, stdout);
    fflush(stdout);
    ssize_t n = getline(&buf, &cap, stdin);
    if (n < 0) { free(buf); return NULL; }
    if (n > 0 && buf[n - 1] == '\n') buf[n - 1] = 0;
    return buf;
  }
  struct sigaction on = {0}, old;
  on.sa_handler = on_prompt_interrupt;
  sigemptyset(&on.sa_mask);
  sigaction(SIGINT, &on, &old);
  fflush(stdout);
  char *line = readline(prompt);
  sigaction(SIGINT, &old, NULL);
  if (prompt_interrupted) { free(line); return NULL; }
  return line;
}

/* --- calls into ember.repl --- */

/* Pushes ember.repl's field `name` (a function), or returns 0 and pushes nothing. */
static int push_repl_function(lua_State *L, const char *name) {
  if (repl_module == LUA_NOREF) return 0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, repl_module);
  if (lua_getfield(L, -1, name) != LUA_TFUNCTION) { lua_pop(L, 2); return 0; }
  lua_remove(L, -2);
  return 1;
}

/* Loads torch (as `th` did, so the global `torch` is there) and ember.repl (its
 * absence only costs pretty printing and completion), and sets the REPL's one
 * convenience global, `help`. */
static void load_repl_module(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "torch");
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    fprintf(stderr, "ember: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  lua_getglobal(L, "require");
  lua_pushliteral(L, "ember.repl");
  if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1)) {
    fprintf(stderr, "ember: REPL helpers unavailable: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    return;
  }
  if (lua_getfield(L, -1, "help") == LUA_TFUNCTION) lua_setglobal(L, "help");
  else lua_pop(L, 1);
  repl_module = luaL_ref(L, LUA_REGISTRYINDEX);
}

/* Prints the values above base (the results of one evaluation) and pops them. */
static void print_results(lua_State *L, int base) {
  int n = lua_gettop(L) - base;
  if (n == 0) return;
  if (!push_repl_function(L, "show")) lua_getglobal(L, "print");
  lua_insert(L, base + 1);
  ember_docall(L, n, 0);
}

/* --- Tab completion --- */

static void free_candidates(void) {
  for (int i = 0; i < ncandidates; i++) free(candidates[i]);
  free(candidates);
  candidates = NULL;
  ncandidates = next_candidate = 0;
}

/* rl_completion_matches generator: the stored candidates, one per call (malloc'd). */
static char *candidate_generator(const char *text, int state) {
  (void)text;
  if (state == 0) next_candidate = 0;
  return next_candidate < ncandidates ? strdup(candidates[next_candidate++]) : NULL;
}

/* Asks ember.repl.complete(word) for the candidates (a list of whole words and the
 * character to append after a single match) and hands them to libedit. */
static char **complete(const char *text, int start, int end) {
  (void)start; (void)end;
  lua_State *L = repl_L;
  rl_attempted_completion_over = 1;   /* never fall back to file names */
  free_candidates();
  int top = lua_gettop(L);
  if (!push_repl_function(L, "complete")) return NULL;
  lua_pushstring(L, text);
  if (lua_pcall(L, 1, 2, 0) != LUA_OK || !lua_istable(L, -2)) { lua_settop(L, top); return NULL; }
  const char *append = lua_tostring(L, -1);
  rl_completion_append_character = append && append[0] ? append[0] : '\0';
  int n = (int)luaL_len(L, -2);
  candidates = calloc((size_t)n + 1, sizeof *candidates);
  for (int i = 1; candidates && i <= n; i++) {
    lua_rawgeti(L, -2, i);
    const char *s = lua_tostring(L, -1);
    if (s) candidates[ncandidates++] = strdup(s);
    lua_pop(L, 1);
  }
  lua_settop(L, top);
  return ncandidates ? rl_completion_matches(text, candidate_generator) : NULL;
}

/* --- history --- */

static void init_line_editing(void) {
  const char *file = getenv("EMBER_HISTORY"), *home = getenv("HOME");
  if (file && file[0]) snprintf(history_path, sizeof history_path, "%s", file);
  else if (home) snprintf(history_path, sizeof history_path, "%s/%s", home, HISTORY_FILE);
  rl_readline_name = "ember";
  rl_catch_signals = 0;
  /* '.' and ':' are not breaks, so Tab sees `torch.ze` and `x:vi` as one word */
  rl_basic_word_break_characters = " \t\n\"\\'`@$><=;|&{}()[],+-*/%^~#";
  rl_completer_word_break_characters = (char *)rl_basic_word_break_characters;
  rl_attempted_completion_function = complete;
  rl_initialize();
  stifle_history(HISTORY_LINES);
  if (history_path[0]) read_history(history_path);
}

static void remember(const char *line) {
  if (!line[0]) return;
  add_history(line);
  if (history_path[0]) write_history(history_path);   /* every line: a killed session keeps it */
}

/* --- evaluation --- */

/* Is a load status a syntax error at the end of the input (more lines will complete it)? */
static int incomplete(lua_State *L, int status) {
  if (status != LUA_ERRSYNTAX) return 0;
  const char *msg = lua_tostring(L, -1);
  size_t n = strlen(msg), k = sizeof("<eof>") - 1;
  return n >= k && strcmp(msg + n - k, "<eof>") == 0;
}

/* Compiles code as `return code` (an expression) or else as statements. Leaves the
 * chunk or the error message on the stack and returns the load status. */
static int load_chunk(lua_State *L, const char *code, size_t len) {
  lua_pushfstring(L, "return %s;", code);
  int status = luaL_loadbuffer(L, lua_tostring(L, -1), lua_rawlen(L, -1), "=stdin");
  lua_remove(L, -2);
  if (status == LUA_OK) return status;
  lua_pop(L, 1);
  return luaL_loadbuffer(L, code, len, "=stdin");
}

/* `?expr` shows the help for expr's value (ember.repl.helpline). */
static void show_help(lua_State *L, const char *expr) {
  if (!push_repl_function(L, "helpline")) { fputs("help is unavailable\n", stderr); return; }
  lua_pushstring(L, expr);
  ember_docall(L, 1, 0);
}

void ember_repl(lua_State *L) {
  int tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
  repl_L = L;
  load_repl_module(L);
  if (tty) {
    init_line_editing();
    printf("Ember 0.1 (%s)  help() for help, Tab completes, Ctrl-D quits\n", LUA_RELEASE);
  }
  lua_pushliteral(L, "");   /* the lines of an incomplete chunk so far */
  int pending = lua_gettop(L);
  for (;;) {
    int continuing = lua_rawlen(L, pending) > 0;
    char *line = read_line(tty, continuing ? ">> " : "> ");
    if (!line) {
      if (!prompt_interrupted) break;   /* end of input */
      fputs("\n", stdout);               /* Ctrl-C: drop the line and any pending ones */
      lua_pushliteral(L, "");
      lua_replace(L, pending);
      continue;
    }
    if (tty) remember(line);
    if (!continuing && line[0] == '?') { show_help(L, line + 1); free(line); continue; }
    lua_pushfstring(L, continuing ? "%s\n%s" : "%s%s", lua_tostring(L, pending), line);
    free(line);
    size_t len;
    const char *code = lua_tolstring(L, -1, &len);
    int status = load_chunk(L, code, len);
    if (incomplete(L, status)) {
      lua_pop(L, 1);
      lua_replace(L, pending);
      continue;
    }
    lua_pushliteral(L, "");
    lua_replace(L, pending);
    lua_remove(L, -2);   /* the code */
    int base = lua_gettop(L) - 1;
    if (status != LUA_OK) fprintf(stderr, "%s\n", lua_tostring(L, -1));
    else if (ember_docall(L, 0, LUA_MULTRET) == LUA_OK) print_results(L, base);
    lua_settop(L, pending);
  }
  lua_settop(L, pending - 1);
  fputs("\n", stdout);
  free_candidates();
  if (repl_module != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, repl_module);
  repl_module = LUA_NOREF;
}
