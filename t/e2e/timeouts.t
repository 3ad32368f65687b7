#!/usr/bin/perl

# A provider that never says a task ended does not hold the credits for
# ever: past makeclip_task_timeout the task fails and is refunded.  A
# follow-up the adapter learned before a failed call is kept.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(sleep);
use Makeclip::Test;

my $t = Makeclip::Test->new;

my $oa = $t->mock('Makeclip::Mock::OpenAI', name => 'oa', steps => 1000);
$ENV{MC_OA_KEY} = 'test-provider-key';

$t->write_config(<<'END' . $t->api_server('makeclip_task_timeout 1500ms;'));
    makeclip_store %%DIR%%/store map_size=16m;
    makeclip_provider oa adapter=openai url=http://127.0.0.1:%%PORT_oa%%/v1
                      key_env=MC_OA_KEY;
    makeclip_model m price=10 seconds=4 to=oa:sora-2;
    makeclip_plan pro models=*;
END

$t->run;

my $key = $t->account('acme', credits => 100);

my $r = $t->post('/v1/videos', key => $key, body => { model => 'm', prompt => 'forever' });
my $id = $r->{json}{id};
is_deeply([$t->balance('acme')], [60, 40], 'reserved');

$r = $t->get("/v1/videos/$id", key => $key);
is($r->{json}{status}, 'in_progress', 'running');

sleep 1.7;

$r = $t->get("/v1/videos/$id", key => $key);
is($r->{json}{status}, 'failed', 'past the task timeout it fails');
is($r->{json}{error}{code}, 'timed_out', 'timed_out');
is_deeply([$t->balance('acme')], [100, 0], 'refunded');

my $polls = () = $oa->requests_to('GET', qr{^/v1/videos/});
$t->get("/v1/videos/$id", key => $key);
is(scalar(() = $oa->requests_to('GET', qr{^/v1/videos/})), $polls,
   'and is not polled again');

$t->audit_clean;
$t->stop;
$t->check_log;

done_testing;
