/* The interactive loop of the ember executable (lua_repl.c) and the protected call
 * that lua_main.c shares with it. */
#ifndef EMBER_LUA_REPL_H
#define EMBER_LUA_REPL_H

typedef struct lua_State lua_State;   /* from <lua.h>, included by the .c files */

/* Reads, evaluates and prints until end of input: libedit line editing, history and
 * completion when stdin and stdout are terminals, plain lines otherwise. */
void ember_repl(lua_State *L);
/* Runs the function below nargs args with a traceback; prints an error; returns the
 * status. Ctrl-C during the call raises "interrupted!" inside it. */
int ember_docall(lua_State *L, int nargs, int nres);

#endif
