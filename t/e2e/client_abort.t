#!/usr/bin/perl

# A client that goes away while the provider is still answering its
# create loses nothing: the provider's task is recorded, its credits stay
# reserved, and it is followed and settled like any other.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(sleep);
use Makeclip::Test qw(json_encode);

my $t = Makeclip::Test->new;

my $oa = $t->mock('Makeclip::Mock::OpenAI', name => 'oa');
$ENV{MC_OA_KEY} = 'test-provider-key';

$t->write_config(<<'END' . $t->api_server());
    makeclip_store %%DIR%%/store map_size=16m;
    makeclip_provider oa adapter=openai url=http://127.0.0.1:%%PORT_oa%%/v1
                      key_env=MC_OA_KEY timeout=5s;
    makeclip_model m price=10 seconds=4 to=oa:sora-2;
    makeclip_plan pro models=*;
END

$t->run;

my $key = $t->account('acme', credits => 100);

# the provider takes 800 ms; the client leaves after 200
$oa->faults(create => ['delay:800']);

my $body = json_encode({ model => 'm', prompt => 'impatient' });
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->port) or die;
print $s "POST /v1/videos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $key\r\n"
    . "Content-Type: application/json\r\nContent-Length: " . length($body)
    . "\r\n\r\n$body";
sleep 0.2;
close $s;

sleep 1.2;

my ($sent) = $oa->requests_to('POST', qr{^/v1/videos$});
ok($sent, 'the provider got the create');

my $r = $t->get('/v1/videos', key => $key);
is(scalar @{ $r->{json}{data} }, 1, 'the task is recorded');
my $v = $r->{json}{data}[0];
is($v->{status}, 'queued', 'queued, with the provider\'s task');
is_deeply([$t->balance('acme')], [60, 40], 'its credits stay reserved');

$r = $t->wait_task($v->{id}, key => $key);
is($r->{json}{status}, 'completed', 'followed to the end');
is_deeply([$t->balance('acme')], [60, 0], 'and settled');

$t->audit_clean;
$t->stop;
$t->check_log;

done_testing;
