#!/usr/bin/perl

# The minimax adapter against a mock of MiniMax's v1 video API: the exact
# request, every status word, the file lookup that ends a poll (and the
# file_id kept when it fails), failures reported at HTTP 200 in base_resp,
# fallback and refunds.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time);
use MIME::Base64 qw(encode_base64);
use Makeclip::Test;

my $t = Makeclip::Test->new;

my $mm = $t->mock('Makeclip::Mock::MiniMax', name => 'mm', steps => 3,
                  key => 'mm-e2e-key-0001');
my $mm2 = $t->mock('Makeclip::Mock::MiniMax', name => 'mm2',
                   key => 'mm-e2e-key-0002');

open my $fh, '>', $t->dir . '/mm.key' or die;
print $fh "mm-e2e-key-0001\n";
close $fh;

$ENV{MAKECLIP_TEST_MM2_KEY} = 'mm-e2e-key-0002';
$ENV{MAKECLIP_TEST_MM_BAD_KEY} = 'mm-wrong-key-9999';

$t->write_config(<<'END' . $t->api_server);
    makeclip_store %%DIR%%/store map_size=16m;
    makeclip_provider mm adapter=minimax url=http://127.0.0.1:%%PORT_mm%%
                      key_file=%%DIR%%/mm.key timeout=1500ms;
    makeclip_provider mm2 adapter=minimax url=http://127.0.0.1:%%PORT_mm2%%
                      key_env=MAKECLIP_TEST_MM2_KEY
                      prompt_optimizer=off fast_pretreatment=on;
    makeclip_provider mmbad adapter=minimax url=http://127.0.0.1:%%PORT_mm%%
                      key_env=MAKECLIP_TEST_MM_BAD_KEY;
    makeclip_model hailuo price=10 seconds=6,10 sizes=1366x768,1920x1080
                   to=mm:MiniMax-Hailuo-02;
    makeclip_model hailuo-any price=10 sizes=1366x768
                   to=mm:MiniMax-Hailuo-02;
    makeclip_model i2v-01 price=10 seconds=6 to=mm:I2V-01;
    makeclip_model hailuo-fallback price=10 seconds=6 sizes=1366x768
                   to=mm:MiniMax-Hailuo-02,mm2:MiniMax-Hailuo-2.3;
    makeclip_model hailuo-bad price=10 seconds=6 sizes=1366x768
                   to=mmbad:MiniMax-Hailuo-02;
    makeclip_plan pro models=*;
END

$t->run;

my $key = $t->account('acme', credits => 5000);

# the request MiniMax gets
my $r = $t->post('/v1/videos', key => $key,
                 body => { model => 'hailuo', prompt => 'a cat in the rain',
                           seconds => 6, size => '1920x1080' });
is($r->{status}, 200, 'create 200');
my $v = $r->{json};
is($v->{status}, 'queued', 'queued');
is($v->{provider}, 'mm', 'served by mm');
is($v->{credits}, 60, '6 s at 10');

my ($sent) = $mm->requests_to('POST', qr{^/v1/video_generation$});
ok($sent, 'POST /v1/video_generation');
is($sent->{headers}{authorization}, 'Bearer mm-e2e-key-0001', 'Bearer key');
is($sent->{headers}{'content-type'}, 'application/json', 'JSON');
is_deeply($sent->{json},
          { model => 'MiniMax-Hailuo-02', prompt => 'a cat in the rain',
            duration => 6, resolution => '1080P',
            prompt_optimizer => JSON::PP::true },
          'field for field what MiniMax documents');
like($sent->{body}, qr/"duration":6[,}]/, 'duration an integer');
like($sent->{body}, qr/"prompt_optimizer":true/, 'prompt_optimizer a boolean');

# every status word, then the file
$r = $t->get("/v1/videos/$v->{id}", key => $key);
is($r->{json}{status}, 'queued', 'Preparing is queued');
my ($q) = $mm->requests_to('GET', qr{^/v1/query/video_generation$});
like($q->{query}{task_id}, qr/^1069161122\d{5}$/, '?task_id=');
is($q->{headers}{authorization}, 'Bearer mm-e2e-key-0001', 'with the key');
$r = $t->get("/v1/videos/$v->{id}", key => $key);
is($r->{json}{status}, 'queued', 'Queueing is queued');
$r = $t->get("/v1/videos/$v->{id}", key => $key);
is($r->{json}{status}, 'in_progress', 'Processing is in_progress');
is(scalar(() = $mm->requests_to('GET', qr{^/v1/files/})), 0,
   'no file lookup yet');
$r = $t->get("/v1/videos/$v->{id}", key => $key);
is($r->{json}{status}, 'completed', 'Success, then the file: completed');
my ($f) = $mm->requests_to('GET', qr{^/v1/files/retrieve$});
like($f->{query}{file_id}, qr/^2052585263\d{5}$/,
     'GET /v1/files/retrieve?file_id=');
is($f->{headers}{authorization}, 'Bearer mm-e2e-key-0001', 'with the key');
is_deeply([$t->balance('acme')], [4940, 0], 'settled');

my $calls = @{ $mm->requests };
$t->get("/v1/videos/$v->{id}", key => $key) for 1 .. 2;
is(scalar @{ $mm->requests }, $calls, 'a finished task asks nothing more');

# the video: download_url needs no key
$r = $t->get("/v1/videos/$v->{id}/content", key => $key);
is($r->{status}, 200, 'content 200');
like($r->{content}, qr/^MOCK-HAILUO-MP4-/, 'MiniMax\'s bytes');
my ($dl) = $mm->requests_to('GET', qr{^/download/});
ok(!exists $dl->{headers}{authorization}, 'no key to the CDN');

# an image as a data: URL and as a URL, both as given
my $jpg = encode_base64("\xff\xd8\xff\xe0 hailuo frame", '');
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'hailuo', prompt => 'it walks', seconds => 10,
                        image_url => "data:image/jpeg;base64,$jpg" });
is($r->{status}, 200, 'image create 200');
($sent) = reverse $mm->requests_to('POST', qr{^/v1/video_generation$});
is_deeply($sent->{json},
          { model => 'MiniMax-Hailuo-02', prompt => 'it walks',
            duration => 10, resolution => '768P',
            prompt_optimizer => JSON::PP::true,
            first_frame_image => "data:image/jpeg;base64,$jpg" },
          'first_frame_image as the data: URL, 768P, 10 s');
$r = $t->wait_task($r->{json}{id}, key => $key);
is($r->{json}{status}, 'completed', 'the image task completes');

$r = $t->post('/v1/videos', key => $key,
              body => { model => 'i2v-01', prompt => 'it walks',
                        image_url => 'https://example.com/start.jpg' });
is($r->{status}, 200, 'image URL create 200');
($sent) = reverse $mm->requests_to('POST', qr{^/v1/video_generation$});
is($sent->{json}{first_frame_image}, 'https://example.com/start.jpg',
   'the URL as given');
is($sent->{json}{resolution}, '720P', '720P for the 01 models');
$t->wait_task($r->{json}{id}, key => $key);

# refused before any charge or call
my ($b0) = $t->balance('acme');
my $posts = () = $mm->requests_to('POST', qr{.});
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'hailuo', prompt => 'x',
                        negative_prompt => 'blur' });
is($r->{status}, 400, 'negative_prompt is a 400');
is($r->{json}{error}{code}, 'unsupported_parameter', 'unsupported_parameter');
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'hailuo', prompt => 'x', seed => 3 });
is($r->{status}, 400, 'seed is a 400');
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'hailuo-any', prompt => 'x', seconds => 5 });
is($r->{status}, 400, '5 s is a 400');
like($r->{json}{error}{message}, qr/allowed: 6, 10/, 'listing 6, 10');
is(scalar $t->balance('acme'), $b0, 'nothing charged');
is(scalar(() = $mm->requests_to('POST', qr{.})), $posts, 'nothing sent');

# MiniMax rejects the input (2013 at HTTP 200): a 400 with its message
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'hailuo', prompt => 'x', seconds => 10,
                        size => '1920x1080' });
is($r->{status}, 400, 'base_resp 2013 is a client 400');
like($r->{json}{error}{message}, qr/1080P supports 6 s only/,
     'with MiniMax\'s message');
is(scalar $t->balance('acme'), $b0, 'refunded');

$r = $t->post('/v1/videos', key => $key,
              body => { model => 'hailuo', prompt => 'x [unsafe]' });
is($r->{status}, 400, 'base_resp 1026 is a client 400');
like($r->{json}{error}{message}, qr/sensitive/, 'saying why');
is(scalar $t->balance('acme'), $b0, 'refunded');

# a task that ends Fail
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'hailuo', prompt => 'x [fail]' });
is_deeply([$t->balance('acme')], [$b0 - 60, 60], 'reserved');
$r = $t->wait_task($r->{json}{id}, key => $key);
is($r->{json}{status}, 'failed', 'Fail is failed');
is($r->{json}{error}{code}, 'content_filtered', '1027 is content_filtered');
like($r->{json}{error}{message}, qr/output new_sensitive/, 'the reason');
is_deeply([$t->balance('acme')], [$b0, 0], 'refunded exactly');

# the file lookup fails for a passing reason: the file_id is kept and
# the next poll asks for the file alone
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'hailuo', prompt => 'file later' });
my $lid = $r->{json}{id};
$t->get("/v1/videos/$lid", key => $key) for 1 .. 3;
$mm->faults(file => ['base:1000']);
my $queries = () = $mm->requests_to('GET', qr{^/v1/query/});
$r = $t->get("/v1/videos/$lid", key => $key);
is($r->{json}{status}, 'in_progress', 'Success without a URL yet: running');
is(scalar(() = $mm->requests_to('GET', qr{^/v1/query/})), $queries + 1,
   'the task was asked once');
$r = $t->get("/v1/videos/$lid", key => $key);
is($r->{json}{status}, 'completed', 'the next poll completes');
is(scalar(() = $mm->requests_to('GET', qr{^/v1/query/})), $queries + 1,
   'without asking for the task again');
my @files = $mm->requests_to('GET', qr{^/v1/files/retrieve$});
is($files[-1]{query}{file_id}, $files[-2]{query}{file_id},
   'the kept file_id');

# a lookup that fails outright leaves the stored state
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'hailuo', prompt => 'file 503' });
my $fid503 = $r->{json}{id};
$t->get("/v1/videos/$fid503", key => $key) for 1 .. 3;
$mm->faults(file => ['503']);
$r = $t->get("/v1/videos/$fid503", key => $key);
is($r->{json}{status}, 'in_progress', 'a 503 lookup: the stored state');
$r = $t->get("/v1/videos/$fid503", key => $key);
is($r->{json}{status}, 'completed', 'then completed');

# a rate limit (1002 at HTTP 200): the next target takes it
($b0) = $t->balance('acme');
$mm->faults(create => ['base:1002']);
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'hailuo-fallback', prompt => 'busy' });
is($r->{status}, 200, '1002 falls back');
is($r->{json}{provider}, 'mm2', 'to the second target');
($sent) = $mm2->requests_to('POST', qr{^/v1/video_generation$});
is($sent->{headers}{authorization}, 'Bearer mm-e2e-key-0002',
   'with its own key');
is_deeply($sent->{json},
          { model => 'MiniMax-Hailuo-2.3', prompt => 'busy', duration => 6,
            resolution => '768P', prompt_optimizer => JSON::PP::false,
            fast_pretreatment => JSON::PP::true },
          'and its own params');
my $fb = $r->{json}{id};
my @reserves = grep { /"type":"reserve"/ && /$fb/ }
               split /\n/, $t->cli('ledger', 'acme');
is(scalar @reserves, 1, 'one reservation across both attempts');
$r = $t->wait_task($fb, key => $key);
is($r->{json}{status}, 'completed', 'completed at the second provider');
($b0) = $t->balance('acme');

# an empty balance at MiniMax (1008): provider trouble, refunded
$mm->faults(create => ['base:1008']);
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'hailuo', prompt => 'x' });
is($r->{status}, 502, 'base_resp 1008 is 502');
is(scalar $t->balance('acme'), $b0, 'refunded');

# a wrong key: 1004 at HTTP 200, the gateway's fault
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'hailuo-bad', prompt => 'x' });
is($r->{status}, 502, 'base_resp 1004 is 502');
unlike($r->{content}, qr/mm-wrong|mm-e2e|Authorization/, 'nothing of keys');
is(scalar $t->balance('acme'), $b0, 'refunded');

$mm->faults(create => ['401']);
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'hailuo', prompt => 'x' });
is($r->{status}, 502, 'provider 401 is 502');
is(scalar $t->balance('acme'), $b0, 'refunded');

# 5xx and a timeout
$mm->faults(create => ['500']);
$mm2->faults(create => ['502']);
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'hailuo-fallback', prompt => 'x' });
is($r->{status}, 502, 'every target 5xx is 502');
is(scalar $t->balance('acme'), $b0, 'refunded');

$mm->faults(create => ['timeout']);
my $t0 = time;
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'hailuo', prompt => 'x' });
is($r->{status}, 504, 'a timeout is 504');
ok(time - $t0 < 5, 'ended by timeout=1500ms');
is(scalar $t->balance('acme'), $b0, 'refunded');

$mm->faults(create => ['malformed']);
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'hailuo', prompt => 'x' });
is($r->{status}, 502, 'malformed is 502');
is(scalar $t->balance('acme'), $b0, 'refunded');

$t->audit_clean;
$t->stop;
$t->check_log;

ok(!grep({ /mm-e2e-key|mm-wrong-key/ } $t->error_log),
   'no provider key in the error log');

done_testing;
