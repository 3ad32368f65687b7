#!/usr/bin/perl

# The seedance adapter against a mock of BytePlus ModelArk's video API:
# the exact create Seedance receives (content list, top-level resolution,
# ratio, integer duration and seed), polling through queued, running and
# succeeded, failures (failed, expired) refunded, the cancel that only a
# queued task allows (and what happens to a running or finished one),
# Seedance's 400s passed on, and every transport fault.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time);
use MIME::Base64 qw(encode_base64);
use Makeclip::Test;

my $t = Makeclip::Test->new;

my $sd = $t->mock('Makeclip::Mock::Seedance', name => 'sd');
my $sd2 = $t->mock('Makeclip::Mock::Seedance', name => 'sd2', key => 'second-key');

open my $fh, '>', $t->dir . '/ark.key' or die;
print $fh "test-provider-key\n";
close $fh;

$ENV{MAKECLIP_TEST_SD2_KEY} = 'second-key';
$ENV{MAKECLIP_TEST_SD_BAD} = 'wrong-ark-key';

my $M = 'seedance-1-0-pro-250528';

$t->write_config(<<"END" . $t->api_server);
    makeclip_store %%DIR%%/store map_size=16m;
    makeclip_provider sd adapter=seedance url=http://127.0.0.1:%%PORT_sd%%
                      key_file=%%DIR%%/ark.key timeout=1500ms;
    makeclip_provider sdwm adapter=seedance url=http://127.0.0.1:%%PORT_sd%%
                      key_file=%%DIR%%/ark.key watermark=false;
    makeclip_provider sd2 adapter=seedance url=http://127.0.0.1:%%PORT_sd2%%
                      key_env=MAKECLIP_TEST_SD2_KEY;
    makeclip_provider sdbad adapter=seedance url=http://127.0.0.1:%%PORT_sd%%
                      key_env=MAKECLIP_TEST_SD_BAD;
    makeclip_model seedance price=10 seconds=5,10
                   sizes=1280x720,720x1280,1920x1080,854x480,2560x1440
                   resolutions=480p:0.5,720p:1,1080p:2 to=sd:$M;
    makeclip_model seedance-wm price=10 seconds=5 to=sdwm:$M;
    makeclip_model seedance-long price=10 seconds=20 to=sd:$M;
    makeclip_model fallback price=10 seconds=5 to=sd:$M,sd2:$M;
    makeclip_model badkey price=10 seconds=5 to=sdbad:$M;
    makeclip_plan pro models=*;
END

$t->run;

my $key = $t->account('acme', credits => 5000);

sub creates { $_[0]->requests_to('POST', qr{^/api/v3/contents/generations/tasks$}) }
sub sd_ctl { my ($m, $what, %b) = @_; $m->_ctl('POST', $what, \%b) }
sub newest { my ($m) = @_; (sort keys %{ $m->tasks })[-1] }

# text to video: the create Seedance gets
my $r = $t->post('/v1/videos', key => $key,
                 body => { model => 'seedance', prompt => 'a cat surfing',
                           seconds => 5, seed => 42 });
is($r->{status}, 200, 'create 200');
my $v = $r->{json};
is($v->{status}, 'queued', 'queued');
is($v->{provider}, 'sd', 'served by sd');
is($v->{credits}, 50, '5 s at 10');
is_deeply([$t->balance('acme')], [4950, 50], 'reserved');

my ($sent) = creates($sd);
ok($sent, 'POST /api/v3/contents/generations/tasks');
is($sent->{headers}{authorization}, 'Bearer test-provider-key', 'Bearer ARK key');
is($sent->{headers}{'content-type'}, 'application/json', 'as JSON');
is_deeply($sent->{json}, {
    model => $M,
    content => [{ type => 'text', text => 'a cat surfing' }],
    resolution => '720p', ratio => '16:9', duration => 5, seed => 42 },
    'field for field what the Ark SDK sends');
like($sent->{body}, qr/"duration":5[,}]/, 'duration a JSON integer');
like($sent->{body}, qr/"seed":42[,}]/, 'seed a JSON integer');
ok(!grep({ /mk_/ } map { values %{ $_->{headers} } } @{ $sd->requests }),
   'the client\'s key never reaches Seedance');

my $sid = newest($sd);

# polling: queued, running, succeeded
$r = $t->get("/v1/videos/$v->{id}", key => $key);
is($r->{json}{status}, 'queued', 'queued');
$r = $t->get("/v1/videos/$v->{id}", key => $key);
is($r->{json}{status}, 'in_progress', 'running is in_progress');
$r = $t->get("/v1/videos/$v->{id}", key => $key);
is($r->{json}{status}, 'completed', 'succeeded is completed');
is_deeply([$t->balance('acme')], [4950, 0], 'settled');

my @polls = $sd->requests_to('GET', qr{^/api/v3/contents/generations/tasks/});
is(scalar @polls, 3, 'three polls');
is($polls[0]{path}, "/api/v3/contents/generations/tasks/$sid", 'GET tasks/{id}');
is($polls[0]{headers}{authorization}, 'Bearer test-provider-key', 'with the key');

$r = $t->get("/v1/videos/$v->{id}/content", key => $key);
is($r->{status}, 200, 'content 200');
like($r->{content}, qr/^SEEDANCE-MP4-\Q$sid\E-/, 'the video at content.video_url');
my ($dl) = $sd->requests_to('GET', qr{^/files/});
ok(!$dl->{headers}{authorization}, 'a presigned URL: no key sent');

# sizes to Seedance's resolutions and ratios
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'seedance', prompt => 'tall', size => '720x1280' });
($sent) = reverse creates($sd);
is($sent->{json}{ratio}, '9:16', '720x1280 is 9:16');
is($sent->{json}{resolution}, '720p', 'at 720p');

$r = $t->post('/v1/videos', key => $key,
              body => { model => 'seedance', prompt => 'small', size => '854x480' });
is($r->{json}{credits}, 25, '480p at half price');
($sent) = reverse creates($sd);
is($sent->{json}{resolution}, '480p', '854x480 is 480p');
is($sent->{json}{ratio}, '16:9', 'and 16:9');

my ($b0, $r0) = $t->balance('acme');
my $n = creates($sd);
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'seedance', prompt => 'big', size => '2560x1440' });
is($r->{status}, 400, '1440p: 400');
like($r->{json}{error}{message}, qr/allowed: 480p, 720p, 1080p/, 'listing the allowed');
is(scalar(() = creates($sd)), $n, 'Seedance was not called');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded exactly');

# watermark=false is sent as a boolean
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'seedance-wm', prompt => 'clean' });
($sent) = reverse creates($sd);
like($sent->{body}, qr/"watermark":false/, 'watermark=false as JSON false');

# image to video: first_frame, ratio adaptive
my $png = 'data:image/png;base64,' . encode_base64("\x89PNG fake", '');
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'seedance', prompt => 'move', image_url => $png });
is($r->{status}, 200, 'image create 200');
($sent) = reverse creates($sd);
is_deeply($sent->{json}{content}, [
    { type => 'text', text => 'move' },
    { type => 'image_url', image_url => { url => $png }, role => 'first_frame' } ],
    'the image as a first_frame image_url item, data: URL as given');
is($sent->{json}{ratio}, 'adaptive', 'no shape asked: adaptive');
$r = $t->wait_task($r->{json}{id}, key => $key);
is($r->{json}{status}, 'completed', 'the image task completes');

$r = $t->post('/v1/videos', key => $key,
              body => { model => 'seedance', prompt => 'move', size => '1920x1080',
                        image_url => 'https://images.example.com/a.png' });
($sent) = reverse creates($sd);
is($sent->{json}{content}[1]{image_url}{url}, 'https://images.example.com/a.png',
   'an https image URL');
is($sent->{json}{ratio}, '16:9', 'a size asked: its ratio');
is($sent->{json}{resolution}, '1080p', 'and its resolution');

# Seedance has no negative prompt: refused before any charge
($b0, $r0) = $t->balance('acme');
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'seedance', prompt => 'x', negative_prompt => 'blur' });
is($r->{status}, 400, 'negative_prompt: 400');
is($r->{json}{error}{code}, 'unsupported_parameter', 'unsupported_parameter');
is_deeply([$t->balance('acme')], [$b0, $r0], 'nothing charged');

# failures
$r = $t->post('/v1/videos', key => $key, body => { model => 'seedance', prompt => 'x [fail]' });
is_deeply([$t->balance('acme')], [$b0 - 50, $r0 + 50], 'reserved');
$r = $t->wait_task($r->{json}{id}, key => $key);
is($r->{json}{status}, 'failed', 'failed');
is($r->{json}{error}{code}, 'OutputVideoSensitiveContentDetected', 'error.code');
like($r->{json}{error}{message}, qr/sensitive information/, 'error.message');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded exactly');

$r = $t->post('/v1/videos', key => $key, body => { model => 'seedance', prompt => 'x [expire]' });
$r = $t->wait_task($r->{json}{id}, key => $key);
is($r->{json}{status}, 'failed', 'expired is failed');
is($r->{json}{error}{code}, 'expired', 'with code expired');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded exactly');

# cancel a queued task: read, then DELETE; refunded
$r = $t->post('/v1/videos', key => $key, body => { model => 'seedance', prompt => 'stop' });
my $cid = $r->{json}{id};
my $csid = newest($sd);
my $before = @{ $sd->requests };
$r = $t->delete("/v1/videos/$cid", key => $key);
is($r->{status}, 200, 'cancel 200');
is($r->{json}{error}{code}, 'canceled', 'code canceled');
ok($r->{json}{canceled}, 'canceled: true');
my @after = @{ $sd->requests }[$before .. $#{ $sd->requests }];
is(join(' ', map { $_->{method} } @after), 'GET DELETE', 'read, then DELETE');
is($after[1]{path}, "/api/v3/contents/generations/tasks/$csid", 'DELETE tasks/{id}');
is($after[1]{headers}{authorization}, 'Bearer test-provider-key', 'with the key');
is($sd->tasks->{$csid}{status}, 'cancelled', 'Seedance cancelled it');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded exactly');

# a running task cannot be cancelled: 409, it runs on and is charged
$r = $t->post('/v1/videos', key => $key, body => { model => 'seedance', prompt => 'running' });
$cid = $r->{json}{id};
$csid = newest($sd);
sd_ctl($sd, 'start', id => $csid);
$before = @{ $sd->requests };
$r = $t->delete("/v1/videos/$cid", key => $key);
is($r->{status}, 409, 'cancel of a running task: 409');
is($r->{json}{error}{code}, 'cancel_not_possible', 'cancel_not_possible');
@after = @{ $sd->requests }[$before .. $#{ $sd->requests }];
ok(!grep({ $_->{method} eq 'DELETE' } @after), 'no DELETE sent');
is($sd->tasks->{$csid}{status}, 'running', 'it still runs at Seedance');
$r = $t->wait_task($cid, key => $key);
is($r->{json}{status}, 'completed', 'and completes');
is_deeply([$t->balance('acme')], [$b0 - 50, $r0], 'and is paid');
($b0, $r0) = $t->balance('acme');

# a task that succeeded at Seedance before the cancel: kept, not deleted
$r = $t->post('/v1/videos', key => $key, body => { model => 'seedance', prompt => 'late' });
$cid = $r->{json}{id};
$csid = newest($sd);
sd_ctl($sd, 'finish', id => $csid);
$before = @{ $sd->requests };
$r = $t->delete("/v1/videos/$cid", key => $key);
is($r->{status}, 200, 'late cancel 200');
is($r->{json}{status}, 'completed', 'the video finished first');
ok(!$r->{json}{canceled}, 'canceled: false');
@after = @{ $sd->requests }[$before .. $#{ $sd->requests }];
ok(!grep({ $_->{method} eq 'DELETE' } @after), 'no DELETE: the record is kept');
ok($sd->tasks->{$csid}, 'Seedance still has it');
is_deeply([$t->balance('acme')], [$b0 - 50, $r0], 'and it is paid');
$r = $t->get("/v1/videos/$cid/content", key => $key);
is($r->{status}, 200, 'its content is there');
($b0, $r0) = $t->balance('acme');

# Seedance's 400: the client's 400 with its message, refunded
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'seedance-long', prompt => 'x' });
is($r->{status}, 400, 'Seedance\'s 400 is a client 400');
is($r->{json}{error}{code}, 'provider_rejected', 'provider_rejected');
like($r->{json}{error}{message}, qr/The parameter `duration` specified in the request is not valid/,
     'with Seedance\'s message');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');

# Seedance refuses the key: 502, nothing about keys, refunded
$r = $t->post('/v1/videos', key => $key, body => { model => 'badkey', prompt => 'x' });
is($r->{status}, 502, 'Seedance\'s 401 is 502');
unlike($r->{content}, qr/wrong-ark|test-provider|Bearer/i, 'the answer has no key');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');
my ($bad) = reverse creates($sd);
is($bad->{headers}{authorization}, 'Bearer wrong-ark-key', 'the mock saw the wrong key');

# fallback: sd answers 500, sd2 takes it with its own key
$sd->faults(create => ['500']);
$r = $t->post('/v1/videos', key => $key, body => { model => 'fallback', prompt => 'fall back' });
is($r->{status}, 200, 'fallback 200');
is($r->{json}{provider}, 'sd2', 'served by sd2');
($sent) = reverse creates($sd2);
is($sent->{headers}{authorization}, 'Bearer second-key', 'sd2\'s key');
my @reserves = grep { /"type":"reserve"/ && /$r->{json}{id}/ } split /\n/, $t->cli('ledger', 'acme');
is(scalar @reserves, 1, 'one reservation for both attempts');
($b0, $r0) = $t->balance('acme');

# every target fails
$sd->faults(create => ['503']);
$sd2->faults(create => ['500']);
$r = $t->post('/v1/videos', key => $key, body => { model => 'fallback', prompt => 'x' });
is($r->{status}, 502, 'all 5xx is 502');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');

$sd->faults(create => ['429']);
$sd2->faults(create => ['429']);
$r = $t->post('/v1/videos', key => $key, body => { model => 'fallback', prompt => 'x' });
is($r->{status}, 503, '429 everywhere is 503');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');

$sd->faults(create => ['timeout']);
my $t0 = time;
$r = $t->post('/v1/videos', key => $key, body => { model => 'seedance', prompt => 'slow' });
is($r->{status}, 504, 'a timeout is 504');
ok(time - $t0 < 5, 'ended by timeout=1500ms');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');

$sd->faults(create => ['malformed']);
$r = $t->post('/v1/videos', key => $key, body => { model => 'seedance', prompt => 'x' });
is($r->{status}, 502, 'malformed JSON is 502');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');

# failed polls keep the stored state
$r = $t->post('/v1/videos', key => $key, body => { model => 'seedance', prompt => 'poll' });
my $pid = $r->{json}{id};
$sd->faults(status => ['500', 'timeout']);
$r = $t->get("/v1/videos/$pid", key => $key);
is($r->{json}{status}, 'queued', 'a 500 poll keeps queued');
$r = $t->get("/v1/videos/$pid", key => $key);
is($r->{json}{status}, 'queued', 'a timed-out poll too');
$r = $t->wait_task($pid, key => $key);
is($r->{json}{status}, 'completed', 'then it completes');

$t->audit_clean;
$t->stop;
$t->check_log;

ok(!grep({ /test-provider-key|second-key|wrong-ark-key/ } $t->error_log),
   'no provider key in the error log');

done_testing;
