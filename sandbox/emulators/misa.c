/* misa.c - MISA AMIS Ke toan (ACT open API) emulator. */
#include <stdlib.h>
#include <string.h>

#include "sbx.h"

struct misa {
    cJSON *seed;
};

static int misa_init(struct sbx_emu *emu, const cJSON *seed)
{
    struct misa *m = calloc(1, sizeof *m);
    if (!m)
        return -1;
    m->seed = cJSON_Duplicate(seed, true);
    emu->data = m;
    return 0;
}

static void misa_free(struct sbx_emu *emu)
{
    struct misa *m = emu->data;
    cJSON_Delete(m->seed);
    free(m);
}

static cJSON *misa_dump(struct sbx_emu *emu)
{
    struct misa *m = emu->data;
    return cJSON_Duplicate(m->seed, true);
}

static void company_info(struct sbx_emu *emu, struct sbx_req *req)
{
    struct misa *m = emu->data;
    sbx_reply_json(req, 200, cJSON_Duplicate(cJSON_GetObjectItem(m->seed, "company"), true));
}

static const struct sbx_route routes[] = {
    { "POST", "/apir/sync/actopen/get_company_info", company_info },
    { NULL, NULL, NULL },
};

static const struct sbx_emulator misa_emu = {
    .name = "misa", .init = misa_init, .free = misa_free, .dump = misa_dump, .routes = routes,
};
SBX_REGISTER(misa_emu);
