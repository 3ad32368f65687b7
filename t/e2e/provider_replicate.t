#!/usr/bin/perl

# The replicate adapter against a mock of Replicate's predictions API: the
# create on a model, on a pinned version and on a bare version id, input
# names from the provider's params, polling through starting, processing
# (progress from the logs) and succeeded, output as an array or a string,
# failed and aborted predictions refunded, Replicate's 422s passed on,
# cancel, and every transport fault.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time);
use MIME::Base64 qw(encode_base64);
use Makeclip::Test;
use Makeclip::Mock::Replicate;

my $V1 = $Makeclip::Mock::Replicate::V_TEXT2VID;

my $t = Makeclip::Test->new;

my $rep = $t->mock('Makeclip::Mock::Replicate', name => 'rep', key => 'r8_test_token');
my $rep2 = $t->mock('Makeclip::Mock::Replicate', name => 'rep2', key => 'r8_second');

open my $fh, '>', $t->dir . '/rep.key' or die;
print $fh "r8_test_token\n";
close $fh;

$ENV{MAKECLIP_TEST_REP2_KEY} = 'r8_second';
$ENV{MAKECLIP_TEST_REP_BAD} = 'r8_wrong';

$t->write_config(<<"END" . $t->api_server);
    makeclip_store %%DIR%%/store map_size=16m;
    makeclip_provider rep adapter=replicate
                      url=http://127.0.0.1:%%PORT_rep%%/v1
                      key_file=%%DIR%%/rep.key timeout=1500ms;
    makeclip_provider hailuo adapter=replicate
                      url=http://127.0.0.1:%%PORT_rep%%/v1
                      key_file=%%DIR%%/rep.key
                      image_field=first_frame_image aspect_field=-
                      seed_field=- negative_field=- resolution_field=resolution;
    makeclip_provider rep2 adapter=replicate
                      url=http://127.0.0.1:%%PORT_rep2%%/v1
                      key_env=MAKECLIP_TEST_REP2_KEY;
    makeclip_provider repbad adapter=replicate
                      url=http://127.0.0.1:%%PORT_rep%%/v1
                      key_env=MAKECLIP_TEST_REP_BAD;
    makeclip_model t2v price=10 seconds=5,10 sizes=1280x720,720x1280
                   to=rep:acme/text2vid;
    makeclip_model t2v-pinned price=10 seconds=5 to=rep:acme/text2vid:$V1;
    makeclip_model t2v-hash price=10 seconds=5 to=rep:$V1;
    makeclip_model t2v-seven price=10 seconds=7 to=rep:acme/text2vid;
    makeclip_model ghost price=10 seconds=5 to=rep:nobody/nothing;
    makeclip_model hailuo price=20 seconds=6,10 sizes=1366x768,1920x1080
                   resolutions=768p:1,1080p:2 to=hailuo:minimax/hailuo-02;
    makeclip_model fallback price=10 seconds=5
                   to=rep:acme/text2vid,rep2:acme/text2vid;
    makeclip_model badkey price=10 seconds=5 to=repbad:acme/text2vid;
    makeclip_plan pro models=*;
END

$t->run;

my $key = $t->account('acme', credits => 5000);

sub creates { $_[0]->requests_to('POST', qr{^/v1/(models/.+/)?predictions$}) }

# on a model: POST /v1/models/{owner}/{name}/predictions
my $r = $t->post('/v1/videos', key => $key,
                 body => { model => 't2v', prompt => 'a cat surfing', seconds => 5,
                           seed => 42, negative_prompt => 'blurry' });
is($r->{status}, 200, 'create 200');
my $v = $r->{json};
is($v->{status}, 'queued', 'starting is queued');
is($v->{provider}, 'rep', 'served by rep');
is($v->{credits}, 50, '5 s at 10');
is_deeply([$t->balance('acme')], [4950, 50], 'reserved');

my ($sent) = creates($rep);
is($sent->{path}, '/v1/models/acme/text2vid/predictions',
   'POST /v1/models/acme/text2vid/predictions');
is($sent->{headers}{authorization}, 'Bearer r8_test_token', 'Bearer token');
is($sent->{headers}{'content-type'}, 'application/json', 'as JSON');
ok(!exists $sent->{headers}{prefer}, 'no Prefer: asynchronous');
is_deeply($sent->{json}, { input => { prompt => 'a cat surfing', duration => 5,
                                      aspect_ratio => '16:9', seed => 42,
                                      negative_prompt => 'blurry' } },
          'field for field, in the model\'s input names');
like($sent->{body}, qr/"duration":5[,}]/, 'duration an integer');
ok(!grep({ /mk_/ } map { values %{ $_->{headers} } } @{ $rep->requests }),
   'the client\'s key never reaches Replicate');

# processing with a progress bar in the logs, then succeeded
$r = $t->get("/v1/videos/$v->{id}", key => $key);
is($r->{json}{status}, 'in_progress', 'processing is in_progress');
is($r->{json}{progress}, 40, 'progress from the last bar in the logs');
$r = $t->get("/v1/videos/$v->{id}", key => $key);
is($r->{json}{status}, 'completed', 'succeeded is completed');
is_deeply([$t->balance('acme')], [4950, 0], 'settled');
my @polls = $rep->requests_to('GET', qr{^/v1/predictions/});
is(scalar @polls, 2, 'two polls');
like($polls[0]{path}, qr{^/v1/predictions/gm3q\w+$}, 'GET /v1/predictions/{id}');
is($polls[0]{headers}{authorization}, 'Bearer r8_test_token', 'with the token');

# the output (an array here) fetched without the token
$r = $t->get("/v1/videos/$v->{id}/content", key => $key);
is($r->{status}, 200, 'content 200');
like($r->{content}, qr/^REPLICATE-MP4-gm3q/, 'the output file');
my ($dl) = $rep->requests_to('GET', qr{^/media/});
ok(!$dl->{headers}{authorization}, 'no token sent to the file URL');

# a pinned version and a bare version id: POST /v1/predictions
$r = $t->post('/v1/videos', key => $key,
              body => { model => 't2v-pinned', prompt => 'pinned' });
is($r->{status}, 200, 'pinned create 200');
($sent) = reverse creates($rep);
is($sent->{path}, '/v1/predictions', 'owner/name:version: POST /v1/predictions');
is_deeply($sent->{json}, { version => $V1,
                           input => { prompt => 'pinned', duration => 5,
                                      aspect_ratio => '16:9' } },
          'with the version id alone');

$r = $t->post('/v1/videos', key => $key,
              body => { model => 't2v-hash', prompt => 'hash' });
is($r->{status}, 200, 'hash create 200');
($sent) = reverse creates($rep);
is($sent->{path}, '/v1/predictions', 'a bare version id too');
is($sent->{json}{version}, $V1, 'its version');

# an image: URL and data: URL, in the model's image input
$r = $t->post('/v1/videos', key => $key,
              body => { model => 't2v', prompt => 'move',
                        image_url => 'https://cdn.example.com/i.png' });
is($r->{status}, 200, 'image create 200');
($sent) = reverse creates($rep);
is($sent->{json}{input}{image}, 'https://cdn.example.com/i.png', 'input.image');

my $png = 'data:image/png;base64,' . encode_base64("\x89PNG fake", '');
$r = $t->post('/v1/videos', key => $key,
              body => { model => 't2v', prompt => 'move', image_url => $png });
is($r->{status}, 200, 'data: image create 200');
($sent) = reverse creates($rep);
is($sent->{json}{input}{image}, $png, 'the data: URL inline');

# input names from params: minimax/hailuo-02's
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'hailuo', prompt => 'a lighthouse', seconds => 6,
                        image_url => 'https://cdn.example.com/l.jpg' });
is($r->{status}, 200, 'hailuo create 200');
is($r->{json}{credits}, 120, '6 s at 20');
($sent) = reverse creates($rep);
is($sent->{path}, '/v1/models/minimax/hailuo-02/predictions', 'on the model');
is_deeply($sent->{json}, { input => { prompt => 'a lighthouse', duration => 6,
                                      resolution => '768p',
                                      first_frame_image => 'https://cdn.example.com/l.jpg' } },
          'first_frame_image, resolution, no aspect_ratio');
my $hid = $r->{json}{id};
$t->get("/v1/videos/$hid", key => $key);
$r = $t->get("/v1/videos/$hid", key => $key);
is($r->{json}{status}, 'completed', 'a string output completes');
$r = $t->get("/v1/videos/$hid/content", key => $key);
like($r->{content}, qr/^REPLICATE-MP4-/, 'and its file is served');

# a model without a seed input: refused before Replicate
my ($b0, $r0) = $t->balance('acme');
my $n0 = () = creates($rep);
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'hailuo', prompt => 'x', seconds => 6, seed => 1 });
is($r->{status}, 400, 'a seed for a model without one is 400');
like($r->{json}{error}{message}, qr/takes no seed/, 'says so');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');
my $n1 = () = creates($rep);
is($n1, $n0, 'Replicate was not called');

# Replicate rejects the input: its detail reaches the client
$r = $t->post('/v1/videos', key => $key,
              body => { model => 't2v-seven', prompt => 'x', seconds => 7 });
is($r->{status}, 400, 'Replicate\'s 422 is a client 400');
is($r->{json}{error}{code}, 'provider_rejected', 'provider_rejected');
like($r->{json}{error}{message}, qr/input\.duration: Must be one of: 5, 10/,
     'with Replicate\'s detail');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');

$r = $t->post('/v1/videos', key => $key, body => { model => 'ghost', prompt => 'x' });
is($r->{status}, 400, 'an unknown model is a client 400');
like($r->{json}{error}{message}, qr/could not be found/, 'with Replicate\'s detail');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');

# failed and aborted predictions are refunded
$r = $t->post('/v1/videos', key => $key, body => { model => 't2v', prompt => 'x [fail]' });
is(($t->balance('acme'))[1], $r0 + 50, 'reserved while it runs');
$r = $t->wait_task($r->{json}{id}, key => $key);
is($r->{json}{status}, 'failed', 'failed');
is($r->{json}{error}{code}, 'generation_failed', 'generation_failed');
like($r->{json}{error}{message}, qr/NSFW content detected/, 'Replicate\'s error');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded exactly');

$r = $t->post('/v1/videos', key => $key, body => { model => 't2v', prompt => 'x [abort]' });
$r = $t->wait_task($r->{json}{id}, key => $key);
is($r->{json}{status}, 'failed', 'aborted is failed');
is($r->{json}{error}{code}, 'canceled', 'with code canceled');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded exactly');

# cancel while processing
$r = $t->post('/v1/videos', key => $key, body => { model => 't2v', prompt => 'stop me' });
my $cid = $r->{json}{id};
$t->get("/v1/videos/$cid", key => $key);
my $before = @{ $rep->requests };
$r = $t->delete("/v1/videos/$cid", key => $key);
is($r->{status}, 200, 'cancel 200');
is($r->{json}{status}, 'failed', 'failed');
is($r->{json}{error}{code}, 'canceled', 'canceled');
ok($r->{json}{canceled}, 'canceled: true');
my @after = @{ $rep->requests }[$before .. $#{ $rep->requests }];
is(scalar @after, 1, 'one call');
is($after[0]{method}, 'POST', 'POST');
like($after[0]{path}, qr{^/v1/predictions/gm3q\w+/cancel$}, '/v1/predictions/{id}/cancel');
is($after[0]{body}, '', 'no body');
is($after[0]{headers}{authorization}, 'Bearer r8_test_token', 'with the token');
my ($pid) = $after[0]{path} =~ m{predictions/(\w+)/cancel};
is($rep->tasks->{$pid}{status}, 'canceled', 'Replicate canceled it');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded exactly');

# the token refused: 502, nothing about it
$r = $t->post('/v1/videos', key => $key, body => { model => 'badkey', prompt => 'x' });
is($r->{status}, 502, 'Replicate\'s 401 is 502');
unlike($r->{content}, qr/r8_|Bearer|authentication token/i, 'the answer has no token');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');
my ($b401) = reverse creates($rep);
is($b401->{headers}{authorization}, 'Bearer r8_wrong', 'the mock saw the wrong token');

# fallback: rep answers 500, rep2 takes it
$rep->faults(create => ['500']);
$r = $t->post('/v1/videos', key => $key, body => { model => 'fallback', prompt => 'fall back' });
is($r->{status}, 200, 'fallback 200');
is($r->{json}{provider}, 'rep2', 'served by rep2');
($sent) = reverse creates($rep2);
is($sent->{headers}{authorization}, 'Bearer r8_second', 'rep2\'s token');
my @reserves = grep { /"type":"reserve"/ && /$r->{json}{id}/ } split /\n/, $t->cli('ledger', 'acme');
is(scalar @reserves, 1, 'one reservation for both attempts');

($b0, $r0) = $t->balance('acme');
$rep->faults(create => ['500']);
$rep2->faults(create => ['503']);
$r = $t->post('/v1/videos', key => $key, body => { model => 'fallback', prompt => 'x' });
is($r->{status}, 502, 'all 5xx is 502');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');

$rep->faults(create => ['429']);
$rep2->faults(create => ['429']);
$r = $t->post('/v1/videos', key => $key, body => { model => 'fallback', prompt => 'x' });
is($r->{status}, 503, '429 everywhere is 503');

$rep->faults(create => ['timeout']);
my $t0 = time;
$r = $t->post('/v1/videos', key => $key, body => { model => 't2v', prompt => 'slow' });
is($r->{status}, 504, 'a timeout is 504');
ok(time - $t0 < 5, 'ended by timeout=1500ms');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');

$rep->faults(create => ['malformed']);
$r = $t->post('/v1/videos', key => $key, body => { model => 't2v', prompt => 'x' });
is($r->{status}, 502, 'malformed JSON is 502');
is_deeply([$t->balance('acme')], [$b0, $r0], 'refunded');

# a failed poll keeps the stored state
$r = $t->post('/v1/videos', key => $key, body => { model => 't2v', prompt => 'poll' });
my $qid = $r->{json}{id};
$rep->faults(status => ['500', 'close']);
$r = $t->get("/v1/videos/$qid", key => $key);
is($r->{json}{status}, 'queued', 'a 500 poll keeps queued');
$r = $t->get("/v1/videos/$qid", key => $key);
is($r->{json}{status}, 'queued', 'a closed poll too');
$r = $t->wait_task($qid, key => $key);
is($r->{json}{status}, 'completed', 'then it completes');

$t->audit_clean;
$t->stop;
$t->check_log;

ok(!grep({ /r8_test_token|r8_second|r8_wrong/ } $t->error_log),
   'no provider token in the error log');

done_testing;
