#!/usr/bin/perl

# The libFuzzer targets, a bounded run each (FUZZ_SECONDS, default 10):
# the request parsers, every adapter's reply handlers, the directive
# parsers.  Skipped where clang or libFuzzer is missing.

use strict;
use warnings;

use FindBin;
use Test::More;

my $dir = $FindBin::Bin;
my $secs = $ENV{FUZZ_SECONDS} || 10;

plan(skip_all => 'clang is not installed') unless `clang --version 2>/dev/null`;
plan(skip_all => 'libFuzzer is not installed (libfuzzer-14-dev)')
    unless glob('/usr/lib/llvm-*/lib/libFuzzer*.a') || glob('/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer*.a');

my $out = `make -s -C $dir all 2>&1`;
is($?, 0, 'the fuzz targets build') or diag($out);

for my $t (qw(fuzz_request fuzz_adapters fuzz_config)) {
    my $bin = "$dir/../../build/fuzz/$t";
    my $corpus = "$dir/../../build/fuzz/corpus/$t";
    system('mkdir', '-p', $corpus);
    my $res = `$bin -max_total_time=$secs -max_len=4096 -rss_limit_mb=1024 -artifact_prefix=$dir/../../build/fuzz/ $corpus $dir/corpus/$t 2>&1`;
    my ($runs) = $res =~ /Done (\d+) runs/;
    ok($? == 0 && $runs, "$t: ${\ ($runs // 0)} runs in $secs s, no crash, leak or timeout")
        or diag(join "\n", grep { /ERROR|SUMMARY|#\d/ } split /\n/, $res);
}

done_testing;
