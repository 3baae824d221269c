/* The interactive loop of the ember executable. */
#ifndef EMBER_LUA_REPL_H
#define EMBER_LUA_REPL_H

typedef struct lua_State lua_State;   /* from <lua.h>, included by the .c files */

/* Reads, evaluates and prints until end of input. */
void ember_repl(lua_State *L);
/* Runs the function below nargs args with a traceback; prints an error; returns status. */
int ember_docall(lua_State *L, int nargs, int nres);

#endif
