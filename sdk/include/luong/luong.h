/*
 * luong/luong.h - the whole Luồng plugin SDK in one include.
 *
 *   #include <luong/luong.h>
 *
 *   static const struct luong_plugin plugin = {
 *       LUONG_PLUGIN_HEADER,
 *       .name = "example", .version = "1.0.0",
 *       .init = example_init, .fini = example_fini,
 *       .actions = example_actions,
 *   };
 *   const struct luong_plugin *luong_plugin_entry(void) { return &plugin; }
 *
 * See plugin.h for what a plugin offers and host.h for what it receives.
 */
#ifndef LUONG_LUONG_H
#define LUONG_LUONG_H

#include "status.h"
#include "plugin.h"
#include "host.h"

#endif
