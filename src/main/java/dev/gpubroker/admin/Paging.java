package dev.gpubroker.admin;

/** Bounds on every admin list: a page has 1 to 500 items. */
final class Paging {

    static final int LIMIT_MAX = 500;

    private Paging() {
    }

    static void check(int limit, int offset) {
        if (limit < 1 || limit > LIMIT_MAX) {
            throw new AdminProblems.InvalidField("limit", "limit is between 1 and " + LIMIT_MAX);
        }
        if (offset < 0) {
            throw new AdminProblems.InvalidField("offset", "offset is not negative");
        }
    }
}
