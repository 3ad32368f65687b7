#!/usr/bin/perl

# Configuration mistakes stop `nginx -t` with a message that names the
# file and line of the directive at fault, the way nginx's own do.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Makeclip::Test;

my $t = Makeclip::Test->new;

my $base = <<'END';
    makeclip_store %%DIR%%/store map_size=16m;
    makeclip_provider sbx adapter=sandbox;
    makeclip_model m price=1 to=sbx;
    makeclip_plan pro models=*;
END

# the line of the first line containing $needle in the written config
sub line_of {
    my ($needle) = @_;
    open my $fh, '<', $t->dir . '/nginx.conf' or die;
    my $n = 0;
    while (<$fh>) {
        $n++;
        return $n if index($_, $needle) >= 0;
    }
    return -1;
}

sub refused {
    my ($http, $needle, $msg_re, $name) = @_;

    $t->write_config($http . $t->api_server);
    my ($ok, $out) = $t->test_config;
    my $line = line_of($needle);

    ok(!$ok, "$name: nginx -t fails");
    like($out, $msg_re, "$name: the message") or diag($out);
    like($out, qr/nginx\.conf:$line\b/, "$name: file and line $line");
}

$t->write_config($base . $t->api_server);
my ($ok, $out) = $t->test_config;
ok($ok, 'a correct configuration passes') or diag($out);

refused($base . "    makeclip_provider x adapter=nope;\n",
        'adapter=nope', qr/unknown adapter "nope"/, 'unknown adapter');

refused($base . "    makeclip_model bad price=1 to=ghost:m;\n",
        'makeclip_model bad', qr/unknown provider "ghost"/,
        'a model routed to an unknown provider');

refused($base . "    makeclip_plan free models=missing;\n",
        'makeclip_plan free', qr/unknown model "missing" in plan "free"/,
        'a plan with an unknown model');

refused($base . "    makeclip_route seconds>6 to=ghost:m;\n",
        'makeclip_route seconds', qr/unknown provider "ghost"/,
        'a route to an unknown provider');

refused($base . "    makeclip_route seconds>six to=sbx;\n",
        'makeclip_route seconds', qr/compares with a number/,
        'a route comparing with a word');

refused($base . "    makeclip_route model~( to=sbx;\n",
        'makeclip_route model', qr/invalid regular expression/,
        'a route with a bad regex');

refused($base . "    makeclip_provider oa adapter=openai url=http://127.0.0.1:9/v1 "
        . "key_file=%%DIR%%/missing.key;\n",
        'missing.key', qr/cannot open key file .*missing\.key/,
        'an unreadable key file');

delete $ENV{MAKECLIP_UNSET_VAR};
refused($base . "    makeclip_provider oa adapter=openai url=http://127.0.0.1:9/v1 "
        . "key_env=MAKECLIP_UNSET_VAR;\n",
        'MAKECLIP_UNSET_VAR', qr/environment variable "MAKECLIP_UNSET_VAR" is not set/,
        'an unset key variable');

refused($base . "    makeclip_model m2 price=2.5 to=sbx;\n",
        'makeclip_model m2', qr/invalid price "2\.5"/, 'a fractional price');

refused($base . "    makeclip_model m2 price=2 seconds=4,8 default_seconds=6 to=sbx;\n",
        'makeclip_model m2', qr/default_seconds=6 is not in seconds=/,
        'a default outside the list');

refused($base . "    makeclip_model m price=2 to=sbx;\n",
        'makeclip_model m price=2', qr/duplicate model "m"/, 'a duplicate model');

refused($base . "    makeclip_store %%DIR%%/store2;\n",
        'store2', qr/"makeclip_store" directive is duplicate/, 'two stores');

refused(<<'END' . "    makeclip_provider sbx adapter=sandbox;\n",
    makeclip_store %%DIR%%/store map_size=10k;
END
        'map_size=10k', qr/invalid map_size "10k"/, 'a map too small');

refused($base . "    makeclip_provider oa adapter=openai url=ftp://x key_env=HOME;\n",
        'ftp://x', qr/must start with http/, 'a URL scheme');

refused($base . "    makeclip_plan p2 max_resolution=huge;\n",
        'max_resolution=huge', qr/invalid max_resolution "huge"/,
        'a bad resolution');

# a submit timeout shorter than the providers' timeouts together warns
$t->write_config($base . "    makeclip_provider oa adapter=openai url=http://127.0.0.1:9/v1 "
                 . "key_env=HOME timeout=400s;\n    makeclip_provider ob adapter=openai "
                 . "url=http://127.0.0.1:9/v2 key_env=HOME timeout=300s;\n"
                 . $t->api_server);
($ok, $out) = $t->test_config;
ok($ok && $out =~ /\[warn\].*makeclip_submit_timeout 600000ms is not longer than the providers' timeouts together \(700000ms\)/,
   'a submit timeout shorter than the fallbacks warns') or diag($out);

# makeclip_api without a store
$t->write_config("    makeclip_provider sbx adapter=sandbox;\n" . $t->api_server);
($ok, $out) = $t->test_config;
ok(!$ok && $out =~ /need "makeclip_store"/, 'makeclip_api needs a store')
    or diag($out);

done_testing;
