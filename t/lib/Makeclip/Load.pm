package Makeclip::Load;

# A small load client for the stress tests: many HTTP/1.1 requests at
# once from one process, each on its own connection (Connection: close),
# driven by non-blocking sockets and select(), so that every request is
# in flight at the same time and nginx's workers race for them.
#
#   my $res = Makeclip::Load::run(port => $port, concurrency => 100,
#       requests => [ { method => 'POST', path => '/v1/videos',
#                       key => $key, body => {...}, headers => {...} } ]);
#
# Returns an array of results in request order: { status, headers,
# content, json, error }.  status is 0 and error is set when the
# connection failed or was cut before a whole answer came.

use strict;
use warnings;

use IO::Socket::INET;
use IO::Select;
use Errno qw(EINPROGRESS EAGAIN EWOULDBLOCK);
use Socket qw(SOL_SOCKET SO_ERROR);
use Time::HiRes qw(time);
use JSON::PP;

my $JSON = JSON::PP->new->canonical->allow_nonref;

sub _request_text {
    my ($req, $port) = @_;

    my $method = $req->{method} || 'GET';
    my %h = %{ $req->{headers} || {} };
    $h{Authorization} = "Bearer $req->{key}" if $req->{key};

    my $body = $req->{body};
    if (ref $body) {
        $body = $JSON->encode($body);
        $h{'Content-Type'} //= 'application/json';
    }

    my $text = "$method $req->{path} HTTP/1.1\r\n"
             . "Host: 127.0.0.1:$port\r\nConnection: close\r\n";
    $text .= "$_: $h{$_}\r\n" for sort keys %h;
    if (defined $body) {
        $text .= 'Content-Length: ' . length($body) . "\r\n";
    }
    $text .= "\r\n";
    $text .= $body if defined $body;

    return $text;
}

sub _parse {
    my ($raw) = @_;

    my $i = index($raw, "\r\n\r\n");
    return { status => 0, error => 'no complete header' } if $i < 0;

    my ($line, @lines) = split /\r\n/, substr($raw, 0, $i);
    my ($status) = $line =~ m{^HTTP/1\.[01] (\d{3})}
        or return { status => 0, error => "bad status line: $line" };

    my %h;
    for (@lines) {
        my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
        $h{lc $k} = $v;
    }

    my $content = substr($raw, $i + 4);

    if (defined $h{'content-length'} && length($content) < $h{'content-length'}) {
        return { status => 0, error => 'body cut short', headers => \%h };
    }

    my $res = { status => $status, headers => \%h, content => $content };
    if (($h{'content-type'} || '') =~ /json/) {
        $res->{json} = eval { $JSON->decode($content) };
    }

    return $res;
}

sub run {
    my (%o) = @_;

    my $port = $o{port} or die 'port';
    my @reqs = @{ $o{requests} };
    my $conc = $o{concurrency} || 50;
    my $deadline = time + ($o{timeout} || 30);

    my @res;
    my @queue = (0 .. $#reqs);
    my %conn;                       # fileno -> state
    my $rsel = IO::Select->new;
    my $wsel = IO::Select->new;

    my $start = sub {
        my ($n) = @_;
        my $s = IO::Socket::INET->new(Proto => 'tcp', Blocking => 0);
        my $addr = Socket::pack_sockaddr_in($port,
                                            Socket::inet_aton('127.0.0.1'));
        if (!connect($s, $addr) && $! != EINPROGRESS) {
            $res[$n] = { status => 0, error => "connect: $!" };
            return;
        }
        $conn{fileno $s} = { n => $n, sock => $s, out => _request_text($reqs[$n], $port),
                             in => '', connected => 0 };
        $wsel->add($s);
    };

    my $finish = sub {
        my ($c, $error) = @_;
        $rsel->remove($c->{sock});
        $wsel->remove($c->{sock});
        delete $conn{fileno $c->{sock}};
        close $c->{sock};
        $res[$c->{n}] = $error ? { status => 0, error => $error }
                               : _parse($c->{in});
    };

    while ((@queue || %conn) && time < $deadline) {

        while (@queue && keys(%conn) < $conc) {
            $start->(shift @queue);
        }

        my ($r, $w) = IO::Select->select($rsel, $wsel, undef, 0.2);

        for my $s (@{ $w || [] }) {
            my $c = $conn{fileno $s} or next;

            if (!$c->{connected}) {
                my $err = unpack('i', getsockopt($s, SOL_SOCKET, SO_ERROR));
                if ($err) {
                    local $! = $err;
                    $finish->($c, "connect: $!");
                    next;
                }
                $c->{connected} = 1;
            }

            my $n = syswrite($s, $c->{out});
            if (!defined $n) {
                next if $! == EAGAIN || $! == EWOULDBLOCK;
                $finish->($c, "write: $!");
                next;
            }

            substr($c->{out}, 0, $n) = '';

            if ($c->{out} eq '') {
                $wsel->remove($s);
                $rsel->add($s);
            }
        }

        for my $s (@{ $r || [] }) {
            my $c = $conn{fileno $s} or next;

            my $n = sysread($s, my $buf, 65536);
            if (!defined $n) {
                next if $! == EAGAIN || $! == EWOULDBLOCK;
                $finish->($c, "read: $!");
                next;
            }

            if ($n == 0) {
                $finish->($c, $c->{in} eq '' ? 'closed without an answer' : undef);
                next;
            }

            $c->{in} .= $buf;
        }
    }

    for my $c (values %conn) {
        $finish->($c, 'timed out');
    }

    for my $n (@queue) {
        $res[$n] = { status => 0, error => 'not sent: timed out' };
    }

    return \@res;
}

# counts of results by status ("0" for failed connections)
sub tally {
    my ($res) = @_;
    my %n;
    $n{$_->{status}}++ for @$res;
    return \%n;
}

1;
