
/*
 * A minimal TAP producer for the C unit tests: prove runs the binaries
 * through the wrappers in t/unit.
 */

#ifndef _MC_TAP_H_INCLUDED_
#define _MC_TAP_H_INCLUDED_


#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <stdarg.h>


static int  tap_n;
static int  tap_failed;


#define ok(cond, ...)                                                        \
    tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...)                                               \
    tap_is_int((long long) (got), (long long) (want), __FILE__, __LINE__,    \
               __VA_ARGS__)

#define is_str(got, want, ...)                                               \
    tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)


static int
tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
    va_list  args;

    printf("%s %d - ", cond ? "ok" : "not ok", ++tap_n);

    va_start(args, fmt);
    vprintf(fmt, args);
    va_end(args);

    printf("\n");

    if (!cond) {
        tap_failed++;
        printf("#   Failed at %s line %d\n", file, line);
    }

    fflush(stdout);
    return cond;
}


static int
tap_is_int(long long got, long long want, const char *file, int line,
    const char *fmt, ...)
{
    va_list  args;
    int      cond;

    cond = (got == want);

    printf("%s %d - ", cond ? "ok" : "not ok", ++tap_n);

    va_start(args, fmt);
    vprintf(fmt, args);
    va_end(args);

    printf("\n");

    if (!cond) {
        tap_failed++;
        printf("#   Failed at %s line %d\n#          got: %lld\n"
               "#     expected: %lld\n", file, line, got, want);
    }

    fflush(stdout);
    return cond;
}


static int
tap_is_str(const char *got, const char *want, const char *file, int line,
    const char *fmt, ...)
{
    va_list  args;
    int      cond;

    cond = (got == NULL && want == NULL)
           || (got && want && strcmp(got, want) == 0);

    printf("%s %d - ", cond ? "ok" : "not ok", ++tap_n);

    va_start(args, fmt);
    vprintf(fmt, args);
    va_end(args);

    printf("\n");

    if (!cond) {
        tap_failed++;
        printf("#   Failed at %s line %d\n#          got: '%s'\n"
               "#     expected: '%s'\n", file, line, got ? got : "(null)",
               want ? want : "(null)");
    }

    fflush(stdout);
    return cond;
}


static int
done_testing(void)
{
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}


#endif /* _MC_TAP_H_INCLUDED_ */
