#!/usr/bin/perl

# The wan adapter against a mock of DashScope's Wan video API: the exact
# create DashScope receives (X-DashScope-Async, input and parameters,
# "W*H" sizes for text and "720P" tiers for images), polling through
# PENDING, SUSPENDED, RUNNING and SUCCEEDED, FAILED and UNKNOWN refunded,
# the cancel that only a PENDING task allows, DashScope's 400s passed on,
# a missing async header refused the way DashScope refuses it, and every
# transport fault.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time);
use MIME::Base64 qw(encode_base64);
use Makeclip::Test;

my $t = Makeclip::Test->new;

my $wan = $t->mock('Makeclip::Mock::Wan', name => 'wan');
my $wan2 = $t->mock('Makeclip::Mock::Wan', name => 'wan2', key => 'second-key');

open my $fh, '>', $t->dir . '/ds.key' or die;
print $fh "test-provider-key\n";
close $fh;

$ENV{MAKECLIP_TEST_WAN2_KEY} = 'second-key';
$ENV{MAKECLIP_TEST_WAN_BAD} = 'sk-wrong-key';

$t->write_config(<<'END' . $t->api_server);
    makeclip_store %%DIR%%/store map_size=16m;
    makeclip_provider wan adapter=wan url=http://127.0.0.1:%%PORT_wan%%
                      key_file=%%DIR%%/ds.key timeout=1500ms
                      prompt_extend=false watermark=false;
    makeclip_provider wan2 adapter=wan url=http://127.0.0.1:%%PORT_wan2%%
                      key_env=MAKECLIP_TEST_WAN2_KEY;
    makeclip_provider wanbad adapter=wan url=http://127.0.0.1:%%PORT_wan%%
                      key_env=MAKECLIP_TEST_WAN_BAD;
    makeclip_model wan-t2v price=10 seconds=5,10
                   sizes=1280x720,720x1280,1920x1080,1024x576
                   resolutions=720p:1,1080p:2 to=wan:wan2.5-t2v-preview;
    makeclip_model wan-i2v price=10 seconds=5,10
                   resolutions=480p:0.5,720p:1,1080p:2
                   to=wan:wan2.5-i2v-preview;
    makeclip_model wan-plus price=10 seconds=5 sizes=1280x720
                   to=wan:wan2.2-t2v-plus;
    makeclip_model fallback price=10 seconds=5 to=wan:wan2.5-t2v-preview,wan2:wan2.5-t2v-preview;
    makeclip_model badkey price=10 seconds=5 to=wanbad:wan2.5-t2v-preview;
    makeclip_plan pro models=*;
END

$t->run;

my $key = $t->account('acme', credits => 5000);

my $CREATE = qr{^/api/v1/services/aigc/video-generation/video-synthesis$};
sub creates { $_[0]->requests_to('POST', $CREATE) }
sub wan_ctl { my ($m, $what, %b) = @_; $m->_ctl('POST', $what, \%b) }
sub newest { my ($m) = @_; (sort keys %{ $m->tasks })[-1] }

# text to video: the create DashScope gets
my $r = $t->post('/v1/videos', key => $key,
                 body => { model => 'wan-t2v', prompt => 'a kitten running',
                           seconds => 5, negative_prompt => 'low quality',
                           seed => 12345 });
is($r->{status}, 200, 'create 200');
my $v = $r->{json};
is($v->{status}, 'queued', 'PENDING is queued');
is($v->{provider}, 'wan', 'served by wan');
is($v->{credits}, 50, '5 s at 10');
is_deeply([$t->balance('acme')], [4950, 50], 'reserved');

my ($sent) = creates($wan);
ok($sent, 'POST /api/v1/services/aigc/video-generation/video-synthesis');
is($sent->{headers}{authorization}, 'Bearer test-provider-key', 'Bearer key');
is($sent->{headers}{'x-dashscope-async'}, 'enable', 'X-DashScope-Async: enable');
is($sent->{headers}{'content-type'}, 'application/json', 'as JSON');
is_deeply($sent->{json}, {
    model => 'wan2.5-t2v-preview',
    input => { prompt => 'a kitten running', negative_prompt => 'low quality' },
    parameters => { size => '1280*720', duration => 5, seed => 12345,
                    prompt_extend => JSON::PP::false,
                    watermark => JSON::PP::false } },
    'field for field what the reference documents');
like($sent->{body}, qr/"duration":5[,}]/, 'duration a JSON integer');
like($sent->{body}, qr/"prompt_extend":false/, 'prompt_extend a JSON boolean');
ok(!grep({ /mk_/ } map { values %{ $_->{headers} } } @{ $wan->requests }),
   'the client\'s key never reaches DashScope');

my $tid = newest($wan);

# polling: PENDING, RUNNING, SUCCEEDED
$r = $t->get("/v1/videos/$v->{id}", key => $key);
is($r->{json}{status}, 'queued', 'PENDING');
$r = $t->get("/v1/videos/$v->{id}", key => $key);
is($r->{json}{status}, 'in_progress', 'RUNNING is in_progress');
$r = $t->get("/v1/videos/$v->{id}", key => $key);
is($r->{json}{status}, 'completed', 'SUCCEEDED is completed');
is_deeply([$t->balance('acme')], [4950, 0], 'settled');

my @polls = $wan->requests_to('GET', qr{^/api/v1/tasks/});
is(scalar @polls, 3, 'three polls');
is($polls[0]{path}, "/api/v1/tasks/$tid", 'GET /api/v1/tasks/{task_id}');
is($polls[0]{headers}{authorization}, 'Bearer test-provider-key', 'with the key');
ok(!$polls[0]{headers}{'x-dashscope-async'}, 'no async header on a query');

$r = $t->get("/v1/videos/$v->{id}/content", key => $key);
is($r->{status}, 200, 'content 200');
like($r->{content}, qr/^WAN-MP4-\Q$tid\E-/, 'the video at output.video_url');
my ($dl) = $wan->requests_to('GET', qr{^/files/});
ok(!$dl->{headers}{authorization}, 'a signed URL: no key sent');

# SUSPENDED on the way is queued
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'wan-t2v', prompt => 'held back [suspend]' });
my $sid = $r->{json}{id};
my @seen;
for (1 .. 4) {
    $r = $t->get("/v1/videos/$sid", key => $key);
    push @seen, $r->{json}{status};
}
is("@seen", 'queued queued in_progress completed',
   'PENDING, SUSPENDED (queued), RUNNING, SUCCEEDED');

# sizes: W*H from the documented list, or a 400 naming them
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'wan-t2v', prompt => 'tall', size => '720x1280',
                        seconds => 10 });
($sent) = reverse creates($wan);
is($sent->{json}{parameters}{size}, '720*1280', '720*1280');
is($sent->{json}{parameters}{duration}, 10, 'duration 10');

my ($b0, $r0) = $t->balance('acme');
my $n = creates($wan);
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'wan-t2v', prompt => 'odd', size => '1024x576' });
is($r->{status}, 400, 'a size Wan lacks: 400');
like($r->{json}{error}{message}, qr/allowed: 832x480, 480x832, 624x624, 1280x720/,
     'listing the allowed sizes');
is(scalar(() = creates($wan)), $n, 'DashScope was not called');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded exactly');

# image to video: img_url and a resolution tier
my $jpg = 'data:image/jpeg;base64,' . encode_base64("\xff\xd8\xff fake", '');
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'wan-i2v', prompt => 'move', image_url => $jpg,
                        size => '1920x1080' });
is($r->{status}, 200, 'image create 200');
($sent) = reverse creates($wan);
is_deeply($sent->{json}, {
    model => 'wan2.5-i2v-preview',
    input => { prompt => 'move', img_url => $jpg },
    parameters => { resolution => '1080P', duration => 5,
                    prompt_extend => JSON::PP::false,
                    watermark => JSON::PP::false } },
    'img_url as given (a data: URL), resolution 1080P, no size');
$r = $t->wait_task($r->{json}{id}, key => $key);
is($r->{json}{status}, 'completed', 'the image task completes');

$r = $t->post('/v1/videos', key => $key,
              body => { model => 'wan-i2v', prompt => 'move',
                        image_url => 'https://images.example.com/a.png',
                        resolution => '480p' });
($sent) = reverse creates($wan);
is($sent->{json}{input}{img_url}, 'https://images.example.com/a.png', 'an https URL');
is($sent->{json}{parameters}{resolution}, '480P', '480P');
($b0, $r0) = $t->balance('acme');

# failures
$r = $t->post('/v1/videos', key => $key, body => { model => 'wan-t2v', prompt => 'x [fail]' });
is_deeply([$t->balance('acme')], [$b0 - 50, $r0 + 50], 'reserved');
my $fid = $r->{json}{id};
$r = $t->wait_task($fid, key => $key);
is($r->{json}{status}, 'failed', 'FAILED is failed');
is($r->{json}{error}{code}, 'DataInspectionFailed', 'output.code');
like($r->{json}{error}{message}, qr/inappropriate content/, 'output.message');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded exactly');

# a task DashScope no longer knows: UNKNOWN
$r = $t->post('/v1/videos', key => $key, body => { model => 'wan-t2v', prompt => 'forgotten' });
my $uid = $r->{json}{id};
$wan->reset;
$r = $t->get("/v1/videos/$uid", key => $key);
is($r->{json}{status}, 'failed', 'UNKNOWN is failed');
is($r->{json}{error}{code}, 'provider_lost', 'provider_lost');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded exactly');

# cancel a PENDING task; refunded
$r = $t->post('/v1/videos', key => $key, body => { model => 'wan-t2v', prompt => 'stop' });
my $cid = $r->{json}{id};
my $ctid = newest($wan);
$r = $t->delete("/v1/videos/$cid", key => $key);
is($r->{status}, 200, 'cancel 200');
is($r->{json}{error}{code}, 'canceled', 'code canceled');
ok($r->{json}{canceled}, 'canceled: true');
my ($post) = $wan->requests_to('POST', qr{/cancel$});
is($post->{path}, "/api/v1/tasks/$ctid/cancel", 'POST /api/v1/tasks/{id}/cancel');
is($post->{headers}{authorization}, 'Bearer test-provider-key', 'with the key');
is($wan->tasks->{$ctid}{status}, 'CANCELED', 'DashScope canceled it');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded exactly');

# a RUNNING task cannot be canceled: 409, it runs on and is charged
$wan->configure(steps => 4);
$r = $t->post('/v1/videos', key => $key, body => { model => 'wan-t2v', prompt => 'running' });
$cid = $r->{json}{id};
$ctid = newest($wan);
$t->get("/v1/videos/$cid", key => $key) for 1 .. 2;
$r = $t->delete("/v1/videos/$cid", key => $key);
is($r->{status}, 409, 'cancel of a RUNNING task: 409');
is($r->{json}{error}{code}, 'cancel_not_possible', 'cancel_not_possible');
my ($refused) = reverse $wan->requests_to('POST', qr{/cancel$});
is($refused->{path}, "/api/v1/tasks/$ctid/cancel", 'DashScope was asked');
$r = $t->wait_task($cid, key => $key);
is($r->{json}{status}, 'completed', 'and it completes');
is_deeply([$t->balance('acme')], [$b0 - 50, $r0], 'and is paid');
($b0, $r0) = $t->balance('acme');
$wan->configure(steps => 2);

# a task that succeeded before the cancel: kept and paid
$r = $t->post('/v1/videos', key => $key, body => { model => 'wan-t2v', prompt => 'late' });
$cid = $r->{json}{id};
wan_ctl($wan, 'finish', id => newest($wan));
$r = $t->delete("/v1/videos/$cid", key => $key);
is($r->{status}, 200, 'late cancel 200');
is($r->{json}{status}, 'completed', 'the video finished first');
ok(!$r->{json}{canceled}, 'canceled: false');
is_deeply([$t->balance('acme')], [$b0 - 50, $r0], 'and it is paid');
$r = $t->get("/v1/videos/$cid/content", key => $key);
is($r->{status}, 200, 'its content is there');
($b0, $r0) = $t->balance('acme');

# DashScope's 400: the client's 400 with its message, refunded
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'wan-plus', prompt => 'x' });
is($r->{status}, 400, 'DashScope\'s 400 is a client 400');
is($r->{json}{error}{code}, 'provider_rejected', 'provider_rejected');
like($r->{json}{error}{message}, qr/size must be in 832\*480,480\*832,624\*624,1920\*1080/,
     'with DashScope\'s message');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');

# DashScope refuses the key: 502, nothing about keys, refunded
$r = $t->post('/v1/videos', key => $key, body => { model => 'badkey', prompt => 'x' });
is($r->{status}, 502, 'DashScope\'s 401 is 502');
unlike($r->{content}, qr/sk-wrong|test-provider|Bearer/i, 'the answer has no key');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');
my ($bad) = reverse creates($wan);
is($bad->{headers}{authorization}, 'Bearer sk-wrong-key', 'the mock saw the wrong key');

# the mock refuses a create without X-DashScope-Async, as DashScope does
require HTTP::Tiny;
my $sync = HTTP::Tiny->new->post($wan->url . '/api/v1/services/aigc/video-generation/video-synthesis', {
    headers => { Authorization => 'Bearer test-provider-key',
                 'Content-Type' => 'application/json' },
    content => '{"model":"wan2.5-t2v-preview","input":{"prompt":"x"}}' });
is($sync->{status}, 403, 'without the async header: 403');
like($sync->{content}, qr/"code":"AccessDenied".*does not support synchronous calls/,
     'AccessDenied, synchronous calls');

# fallback: wan answers 500, wan2 takes it with its own key
$wan->faults(create => ['500']);
$r = $t->post('/v1/videos', key => $key, body => { model => 'fallback', prompt => 'fall back' });
is($r->{status}, 200, 'fallback 200');
is($r->{json}{provider}, 'wan2', 'served by wan2');
($sent) = reverse creates($wan2);
is($sent->{headers}{authorization}, 'Bearer second-key', 'wan2\'s key');
ok(!exists $sent->{json}{parameters}{prompt_extend},
   'no prompt_extend where the provider sets none');
my @reserves = grep { /"type":"reserve"/ && /$r->{json}{id}/ } split /\n/, $t->cli('ledger', 'acme');
is(scalar @reserves, 1, 'one reservation for both attempts');
($b0, $r0) = $t->balance('acme');

# every target fails
$wan->faults(create => ['503']);
$wan2->faults(create => ['500']);
$r = $t->post('/v1/videos', key => $key, body => { model => 'fallback', prompt => 'x' });
is($r->{status}, 502, 'all 5xx is 502');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');

$wan->faults(create => ['429']);
$wan2->faults(create => ['429']);
$r = $t->post('/v1/videos', key => $key, body => { model => 'fallback', prompt => 'x' });
is($r->{status}, 503, '429 everywhere is 503');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');

$wan->faults(create => ['timeout']);
my $t0 = time;
$r = $t->post('/v1/videos', key => $key, body => { model => 'wan-t2v', prompt => 'slow' });
is($r->{status}, 504, 'a timeout is 504');
ok(time - $t0 < 5, 'ended by timeout=1500ms');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');

$wan->faults(create => ['malformed']);
$r = $t->post('/v1/videos', key => $key, body => { model => 'wan-t2v', prompt => 'x' });
is($r->{status}, 502, 'malformed JSON is 502');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');

# failed polls keep the stored state
$r = $t->post('/v1/videos', key => $key, body => { model => 'wan-t2v', prompt => 'poll' });
my $pid = $r->{json}{id};
$wan->faults(status => ['500', 'timeout']);
$r = $t->get("/v1/videos/$pid", key => $key);
is($r->{json}{status}, 'queued', 'a 500 poll keeps queued');
$r = $t->get("/v1/videos/$pid", key => $key);
is($r->{json}{status}, 'queued', 'a timed-out poll too');
$r = $t->wait_task($pid, key => $key);
is($r->{json}{status}, 'completed', 'then it completes');

$t->audit_clean;
$t->stop;
$t->check_log;

ok(!grep({ /test-provider-key|second-key|sk-wrong-key/ } $t->error_log),
   'no provider key in the error log');

done_testing;
