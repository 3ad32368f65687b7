#!/usr/bin/perl

# The openai adapter against a mock of OpenAI's Videos API: the request
# the provider sees, polling to the end, content streamed with the
# provider's key, fallback between targets, every fault a provider can
# show, and the limits of the gateway's own input.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time);
use MIME::Base64 qw(encode_base64);
use Makeclip::Test qw(json_encode);

my $t = Makeclip::Test->new;

my $oa = $t->mock('Makeclip::Mock::OpenAI', name => 'oa');
my $oa2 = $t->mock('Makeclip::Mock::OpenAI', name => 'oa2', key => 'second-key');

open my $fh, '>', $t->dir . '/oa.key' or die;
print $fh "test-provider-key\n";
close $fh;

$ENV{MAKECLIP_TEST_OA2_KEY} = 'second-key';

$t->write_config(<<'END' . $t->api_server('makeclip_max_body_size 64k;'));
    makeclip_store %%DIR%%/store map_size=16m;
    makeclip_provider oa adapter=openai url=http://127.0.0.1:%%PORT_oa%%/v1
                      key_file=%%DIR%%/oa.key timeout=1500ms;
    makeclip_provider oa2 adapter=openai url=http://127.0.0.1:%%PORT_oa2%%/v1
                      key_env=MAKECLIP_TEST_OA2_KEY;
    makeclip_model sora-2 price=10 seconds=4,8,12
                   sizes=1280x720,720x1280 to=oa:sora-2;
    makeclip_model sora-fallback price=10 seconds=4,8 to=oa:sora-2,oa2:sora-2;
    makeclip_model sora-wide price=10 sizes=1920x1080 to=oa:sora-2-pro;
    makeclip_plan pro models=*;
END

$t->run;

my $key = $t->account('acme', credits => 1000);

# the request OpenAI gets
my $r = $t->post('/v1/videos', key => $key,
                 body => { model => 'sora-2', prompt => 'a lighthouse at dusk',
                           seconds => 8, size => '1280x720' });
is($r->{status}, 200, 'create 200');
my $v = $r->{json};
is($v->{status}, 'queued', 'queued');
is($v->{provider}, 'oa', 'served by oa');
is($v->{credits}, 80, '8 s at 10');

my ($sent) = $oa->requests_to('POST', qr{^/v1/videos$});
is($sent->{headers}{authorization}, 'Bearer test-provider-key',
   'the provider gets its own key');
is_deeply($sent->{json}, { model => 'sora-2', prompt => 'a lighthouse at dusk',
                           seconds => '8', size => '1280x720' },
          'field for field what OpenAI documents');
like($sent->{body}, qr/"seconds":"8"/, 'seconds sent as a string');
is($sent->{headers}{'content-type'}, 'application/json', 'as JSON');
ok(!grep({ /mk_/ } map { values %{ $_->{headers} } } @{ $oa->requests }),
   'the client\'s key never reaches the provider');

# polling maps in_progress, then completed
$r = $t->get("/v1/videos/$v->{id}", key => $key);
is($r->{json}{status}, 'in_progress', 'in_progress');
is($r->{json}{progress}, 50, 'progress from the provider');
$r = $t->get("/v1/videos/$v->{id}", key => $key);
is($r->{json}{status}, 'completed', 'completed');
is_deeply([$t->balance('acme')], [920, 0], 'settled');

# a finished task is answered from the store
my $polls = () = $oa->requests_to('GET', qr{^/v1/videos/[^/]+$});
$t->get("/v1/videos/$v->{id}", key => $key) for 1 .. 3;
my $polls2 = () = $oa->requests_to('GET', qr{^/v1/videos/[^/]+$});
is($polls2, $polls, 'no provider call for a finished task');

# the content, streamed from the provider with the provider's key
$r = $t->get("/v1/videos/$v->{id}/content", key => $key);
is($r->{status}, 200, 'content 200');
like($r->{content}, qr/^MOCK-MP4-video_mock/, 'the provider\'s bytes');
is($r->{headers}{'content-type'}, 'video/mp4', 'video/mp4');
my ($dl) = $oa->requests_to('GET', qr{/content$});
is($dl->{headers}{authorization}, 'Bearer test-provider-key',
   'downloaded with the provider key');

# an image as a data: URL goes as input_reference.image_url
my $png = 'data:image/png;base64,' . encode_base64("\x89PNG fake", '');
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'sora-2', prompt => 'move', image_url => $png });
is($r->{status}, 200, 'image create 200');
($sent) = reverse $oa->requests_to('POST', qr{^/v1/videos$});
is($sent->{json}{input_reference}{image_url}, $png, 'input_reference.image_url');

# OpenAI takes no seed: refused before any charge
my ($b0) = $t->balance('acme');
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'sora-2', prompt => 'x', seed => 7 });
is($r->{status}, 400, 'seed is a 400 for openai');
is($r->{json}{error}{code}, 'unsupported_parameter', 'unsupported_parameter');
is(scalar $t->balance('acme'), $b0, 'nothing charged for the seed request');

# a task the provider fails is refunded
$r = $t->post('/v1/videos', key => $key, body => { model => 'sora-2', prompt => 'x [fail]' });
$r = $t->wait_task($r->{json}{id}, key => $key);
is($r->{json}{status}, 'failed', 'failed');
is($r->{json}{error}{code}, 'moderation_blocked', 'the provider\'s code');
like($r->{json}{error}{message}, qr/moderation/, 'and message');

# the provider rejects the input: 400 with its message, refunded
($b0) = $t->balance('acme');
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'sora-wide', prompt => 'wide' });
is($r->{status}, 400, 'provider 400 is a client 400');
like($r->{json}{error}{message}, qr/Invalid value: '1920x1080'/, 'with the provider\'s message');
is(scalar $t->balance('acme'), $b0, 'refunded');

# fallback: the first target fails with 500, the second takes it
$oa->faults(create => ['500']);
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'sora-fallback', prompt => 'fall back' });
is($r->{status}, 200, 'fallback create 200');
is($r->{json}{provider}, 'oa2', 'served by the second target');
my ($sent2) = reverse $oa2->requests_to('POST', qr{^/v1/videos$});
is($sent2->{headers}{authorization}, 'Bearer second-key', 'with the second provider\'s key');
my @reserves = grep { /"type":"reserve"/ && /$r->{json}{id}/ } split /\n/, $t->cli('ledger', 'acme');
is(scalar @reserves, 1, 'one reservation across both attempts');

# every target fails: 502, refunded
($b0) = $t->balance('acme');
$oa->faults(create => ['503']);
$oa2->faults(create => ['500']);
$r = $t->post('/v1/videos', key => $key, body => { model => 'sora-fallback', prompt => 'x' });
is($r->{status}, 502, 'all targets 5xx is 502');
is($r->{json}{error}{code}, 'provider_unavailable', 'provider_unavailable');
is(scalar $t->balance('acme'), $b0, 'refunded');

# 429 everywhere: 503
$oa->faults(create => ['429']);
$oa2->faults(create => ['429']);
$r = $t->post('/v1/videos', key => $key, body => { model => 'sora-fallback', prompt => 'x' });
is($r->{status}, 503, 'rate limited everywhere is 503');

# a provider that never answers: the provider's timeout ends it
$oa->faults(create => ['timeout']);
my $t0 = time;
$r = $t->post('/v1/videos', key => $key, body => { model => 'sora-2', prompt => 'slow' });
is($r->{status}, 504, 'a timeout is 504');
ok(time - $t0 < 5, 'ended by timeout=1500ms, not the proxy\'s 120 s');
is(scalar $t->balance('acme'), $b0, 'refunded');

# malformed JSON from the provider: 502
$oa->faults(create => ['malformed']);
$r = $t->post('/v1/videos', key => $key, body => { model => 'sora-2', prompt => 'x' });
is($r->{status}, 502, 'malformed provider JSON is 502');

# wrong credentials at the provider: 502, nothing about keys
$oa->faults(create => ['401']);
$r = $t->post('/v1/videos', key => $key, body => { model => 'sora-2', prompt => 'x' });
is($r->{status}, 502, 'provider 401 is 502');
unlike($r->{content}, qr/key|sk-/i, 'the answer says nothing of keys');
is(scalar $t->balance('acme'), $b0, 'refunded');

# a poll that fails keeps the stored state
$r = $t->post('/v1/videos', key => $key, body => { model => 'sora-2', prompt => 'poll' });
my $pid = $r->{json}{id};
$oa->faults(status => ['500', 'timeout']);
$r = $t->get("/v1/videos/$pid", key => $key);
is($r->{status}, 200, 'a failed poll still answers');
is($r->{json}{status}, 'queued', 'with the stored state');
$r = $t->get("/v1/videos/$pid", key => $key);
is($r->{json}{status}, 'queued', 'a timed-out poll too');
$r = $t->wait_task($pid, key => $key);
is($r->{json}{status}, 'completed', 'then it completes');

# an answer larger than the subrequest buffer fails the call cleanly
$oa->configure(pad => 300000);
$r = $t->post('/v1/videos', key => $key, body => { model => 'sora-2', prompt => 'big' });
is($r->{status}, 502, 'an oversized provider answer is 502');
$oa->configure(pad => 0);

# the OpenAI SDK's multipart create
my $bd = 'sdk-boundary-1234';
my $mp = join '',
    map({ "--$bd\r\nContent-Disposition: form-data; name=\"$_->[0]\"\r\n\r\n$_->[1]\r\n" }
        [model => 'sora-2'], [prompt => 'from the sdk'], [seconds => '4'],
        [size => '720x1280']),
    "--$bd\r\nContent-Disposition: form-data; name=\"input_reference\"; filename=\"ref.png\"\r\n"
    . "Content-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\nbinary\r\n",
    "--$bd--\r\n";
$r = $t->post('/v1/videos', key => $key, body => $mp,
              headers => { 'Content-Type' => "multipart/form-data; boundary=$bd" });
is($r->{status}, 200, 'multipart create 200');
is($r->{json}{size}, '720x1280', 'fields from the form');
($sent) = reverse $oa->requests_to('POST', qr{^/v1/videos$});
is($sent->{json}{input_reference}{image_url},
   'data:image/png;base64,' . encode_base64("\x89PNG\r\n\x1a\nbinary", ''),
   'the uploaded file travels as a data: URL');

# bodies over makeclip_max_body_size (64k)
($b0) = $t->balance('acme');
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'sora-2', prompt => 'x' x 70000 });
is($r->{status}, 413, 'an oversized body is 413');
is($r->{json}{error}{code}, 'request_too_large', 'in JSON');
is(scalar $t->balance('acme'), $b0, 'nothing charged');

$t->audit_clean;
$t->stop;
$t->allow_log(qr/too big subrequest response/);
$t->check_log;

ok(!grep({ /test-provider-key|second-key/ } $t->error_log), 'no provider key in the error log');

done_testing;
