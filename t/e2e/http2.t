#!/usr/bin/perl

# The API over HTTP/2 (cleartext, prior knowledge): create with a body,
# a poll through a provider (subrequests on an HTTP/2 stream), the
# content streamed, and errors.  Uses curl; skipped without it.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Makeclip::Test qw(json_decode);

plan(skip_all => 'curl with HTTP/2 is not installed')
    unless `curl --version 2>/dev/null` =~ /HTTP2/;

my $t = Makeclip::Test->new;

my $oa = $t->mock('Makeclip::Mock::OpenAI', name => 'oa');
$ENV{MC_OA_KEY} = 'test-provider-key';

$t->write_config(<<'END');
    makeclip_store %%DIR%%/store map_size=16m;
    makeclip_provider oa adapter=openai url=http://127.0.0.1:%%PORT_oa%%/v1
                      key_env=MC_OA_KEY;
    makeclip_model m price=1 seconds=4 to=oa:sora-2;
    makeclip_plan pro models=*;

    server {
        listen 127.0.0.1:%%PORT%% http2;
        location /v1/ {
            makeclip_api;
            makeclip_poll_interval 0;
        }
        include %%ROOT%%/conf/makeclip_proxy.conf;
    }
END

$t->run;

my $key = $t->account('acme', credits => 100);
my $base = 'http://127.0.0.1:' . $t->port;

sub h2 {
    my (@args) = @_;
    my $out = `curl -s --http2-prior-knowledge -w '\\n%{http_code} %{http_version}' -H 'Authorization: Bearer $key' @args`;
    my ($body, $code, $ver) = $out =~ /^(.*)\n(\d+) (\S+)$/s;
    return ($code, $ver, $body);
}

my ($code, $ver, $body) = h2("-H 'Content-Type: application/json' "
                             . "-d '{\"model\":\"m\",\"prompt\":\"over h2\"}' $base/v1/videos");
is($ver, '2', 'HTTP/2');
is($code, 200, 'create over HTTP/2');
my $id = (json_decode($body) || {})->{id};
like($id, qr/^video_/, 'a task');

($code, $ver, $body) = h2("$base/v1/videos/$id");
is((json_decode($body) || {})->{status}, 'in_progress', 'a poll through the provider');
($code, $ver, $body) = h2("$base/v1/videos/$id");
is((json_decode($body) || {})->{status}, 'completed', 'completed');

($code, $ver, $body) = h2("$base/v1/videos/$id/content");
is($code, 200, 'content over HTTP/2');
like($body, qr/^MOCK-MP4/, 'the provider\'s bytes');

($code, $ver, $body) = h2("-H 'Content-Type: application/json' -d '{' $base/v1/videos");
is($code, 400, 'malformed JSON over HTTP/2 is 400');

is_deeply([$t->balance('acme')], [96, 0], 'settled');

$t->audit_clean;
$t->stop;
$t->check_log;

done_testing;
